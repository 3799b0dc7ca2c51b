"""The fiche d'inscription as a PDF: blank, or pre-filled with the family's and a child's data.

Drawn with DejaVu Sans (`bot.pdf_fonts`), embedded: every French letter, "œ", the typographic
quotes and € print as written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.domain import forms
from bot.domain.forms import Form
from bot.family_texts import display_value
from bot.i18n import _, format_short_date
from bot.pdf_fonts import FAMILY, printable, use_fonts
from bot.services.children import ChildSheet, current_enrolments
from bot.services.home import FamilyRecord
from bot.structure import Structure
from storage.models import Guardian

LINE = 6.5
LABEL_WIDTH = 55


def drawable(text: str) -> str:
    """Text the PDF font can draw."""
    return printable(text)


@dataclass(frozen=True)
class RegistrationData:
    """What a pre-filled fiche shows (None everywhere for a blank one)."""

    record: FamilyRecord | None
    sheet: ChildSheet | None
    today: dt.date


class _Sheet(FPDF):
    def __init__(self, structure: Structure) -> None:
        super().__init__(format="A4")
        use_fonts(self)
        self.structure = structure
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=8)
        self.cell(0, 5, drawable(f"{self.structure.name} - {self.page_no()}/{{nb}}"), align="C")

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font(FAMILY, style="B", size=11)
        self.set_fill_color(230, 230, 230)
        self.cell(0, 7, drawable(text), fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, size=10)

    def field(self, label: str, value: str) -> None:
        self.set_font(FAMILY, size=9)
        self.cell(LABEL_WIDTH, LINE, drawable(label))
        self.set_font(FAMILY, style="B" if value else "", size=10)
        self.cell(0, LINE, drawable(value), border="B", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def text_line(self, text: str, size: int = 10) -> None:
        self.set_font(FAMILY, size=size)
        self.multi_cell(0, 5, drawable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _values(form: Form, record: object | None) -> dict[str, str]:
    return forms.current_values(form, record) if record is not None else {}


def _form_fields(
    pdf: _Sheet, form: Form, record: object | None, keys: tuple[str, ...] | None = None
) -> None:
    values = _values(form, record)
    for item in form.fields:
        if keys is not None and item.key not in keys:
            continue
        value = display_value(item, values.get(item.key), masked=True) if record is not None else ""
        pdf.field(_(item.label), "" if value == "—" else value)


def registration_pdf(structure: Structure, data: RegistrationData) -> bytes:
    """The fiche d'inscription: family, guardians, child, services, authorisations, health, signature."""
    pdf = _Sheet(structure)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(FAMILY, style="B", size=14)
    pdf.cell(0, 8, drawable(structure.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, size=9)
    for line in (
        structure.service_name,
        structure.address,
        " - ".join(p for p in (structure.phone, structure.email) if p),
    ):
        if line:
            pdf.cell(0, 4.5, drawable(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font(FAMILY, style="B", size=16)
    year = data.today.year if data.today.month >= 9 else data.today.year - 1
    pdf.cell(
        0,
        10,
        drawable(_("REGISTRATION FORM {first}-{second}").format(first=year, second=year + 1)),
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    record, sheet = data.record, data.sheet
    if record is None:
        pdf.text_line(_("Blank form: fill it in and hand it to the structure."), size=9)
    else:
        pdf.text_line(
            _("Pre-filled on {date}: check every line and correct what changed.").format(
                date=format_short_date(data.today)
            ),
            size=9,
        )

    pdf.heading(_("Family"))
    family = record.family if record else None
    pdf.field(_("Family number"), family.number if family else "")
    _form_fields(pdf, forms.FISCAL, family, ("regime",))
    _form_fields(pdf, forms.CAF, family, ("caf_number", "caf_children_count"))

    for title, guardian in (
        (_("Responsable"), record.responsable if record else None),
        (_("Spouse / partner"), record.conjoint if record else None),
    ):
        pdf.heading(title)
        _guardian(pdf, guardian, filled=record is not None)

    pdf.heading(_("Child"))
    child = sheet.child if sheet else None
    _form_fields(pdf, forms.CHILD_DATA, child)
    if child is not None and child.identifier:
        pdf.field(_("Identifier"), child.identifier)

    pdf.heading(_("Services wanted"))
    enrolled = {e.service.code for e in current_enrolments(sheet, data.today)} if sheet else set()
    for service in structure.services:
        mark = "[X]" if service.code in enrolled else "[  ]"
        pdf.text_line(f"{mark} {service.name}")

    pdf.heading(_("Persons authorised to pick the child up"))
    persons = list(sheet.authorized_persons) if sheet else []
    for person in persons:
        phones = ", ".join(p for p in (person.phone, person.mobile) if p)
        pdf.text_line(
            " - ".join(
                p
                for p in (
                    f"{person.last_name} {person.first_name or ''}".strip(),
                    person.relation or "",
                    phones,
                )
                if p
            )
        )
    for _blank in range(max(0, 3 - len(persons))):
        pdf.field(_("Name, relationship, phone"), "")

    pdf.heading(_("Health data"))
    vaccinations = list(sheet.vaccinations) if sheet else []
    for vaccination in vaccinations:
        parts = [vaccination.name]
        if vaccination.given_on:
            parts.append(format_short_date(vaccination.given_on))
        if vaccination.booster_on:
            parts.append(_("booster {date}").format(date=format_short_date(vaccination.booster_on)))
        pdf.text_line(_("Vaccination: {details}").format(details=", ".join(parts)))
    if not vaccinations:
        pdf.field(_("Vaccinations (name, date, booster)"), "")
    items = list(sheet.health_items) if sheet else []
    pdf.field(
        _("Allergies, illnesses, contra-indications, PAI"),
        "; ".join(item.description for item in items),
    )
    _form_fields(pdf, forms.GLASSES, child)
    _form_fields(pdf, forms.DOCTOR, child)

    pdf.ln(4)
    pdf.text_line(_("I certify that the information above is correct."), size=9)
    pdf.ln(2)
    pdf.field(_("Done at"), "")
    pdf.field(_("On"), "")
    pdf.field(_("Signature"), "")
    return bytes(pdf.output())


def _guardian(pdf: _Sheet, guardian: Guardian | None, *, filled: bool) -> None:
    keys = (
        "civility",
        "last_name",
        "first_name",
        "address",
        "postal_code",
        "city",
        "phone_home",
        "phone_work",
        "phone_mobile",
        "email",
        "profession",
        "employer",
    )
    _form_fields(pdf, forms.RESPONSABLE, guardian if filled else None, keys)
