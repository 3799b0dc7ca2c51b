"""PDF documents: the invoice (facture) and the annual attestation de frais de garde.

Both are official documents of a French structure: they are always written in French, with
French dates and amounts ("1 234,56 €"), whatever language the parent chose for the chat.
They use DejaVu Sans (`bot.pdf_fonts`), embedded, so every French letter, "œ" and the euro sign
print as written; a character the font lacks is replaced by its closest plain letter. Pure
functions: plain data in, bytes out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from babel.numbers import format_decimal
from fpdf import FPDF
from fpdf.fonts import FontFace

from bot.i18n import _, babel_locale, format_money, format_short_date, use_language
from bot.pdf_fonts import FAMILY, printable, use_fonts
from bot.services.billing import InvoiceDocument
from bot.services.statement import AttestationDocument
from bot.structure import Structure

__all__ = ["attestation_filename", "build_attestation_pdf", "build_invoice_pdf", "invoice_filename"]

_FONT = FAMILY
_GREY = (235, 235, 235)


def invoice_filename(number: str) -> str:
    """ "facture-AL-37.pdf"."""
    return f"facture-{number}.pdf"


def attestation_filename(year: int, family_number: str) -> str:
    """ "attestation-garde-2026-1001001818331.pdf"."""
    return f"attestation-garde-{year}-{family_number}.pdf"


def build_invoice_pdf(
    document: InvoiceDocument, structure: Structure, *, online_payment: bool = False
) -> bytes:
    """The invoice as an A4 PDF; `online_payment` says it can be paid in the bot."""
    with use_language("fr"):
        pdf = _new_pdf(_("Invoice {number}").format(number=document.number), structure)
        _structure_header(pdf, structure)
        _title_block(
            pdf,
            _("INVOICE"),
            [
                _("No. {number}").format(number=document.number),
                _("Invoice date: {date}").format(date=format_short_date(document.issued_on)),
                _("Due date: {date}").format(date=format_short_date(document.due_on)),
            ],
        )
        _addressee(pdf, document.family_number, document.family_name, document.address_lines)
        pdf.set_font(_FONT, size=10)
        _line(pdf, _("Régie: {regie}").format(regie=document.regie))
        _line(
            pdf,
            _("Period: from {start} to {end}").format(
                start=format_short_date(document.period_start),
                end=format_short_date(document.period_end),
            ),
        )
        pdf.ln(3)
        _table(
            pdf,
            (_("Description"), _("Quantity"), _("Unit price"), _("Amount")),
            [
                (
                    line.label,
                    _quantity(line.quantity),
                    format_money(line.unit_price),
                    format_money(line.amount),
                )
                for line in document.lines
            ],
            widths=(96, 26, 34, 34),
        )
        pdf.ln(3)
        _total_row(pdf, _("Invoice total"), document.total, bold=True)
        _total_row(pdf, _("Already paid"), document.paid)
        _total_row(pdf, _("Amount due"), document.due, bold=True)
        pdf.ln(2)
        pdf.set_font(_FONT, style="B", size=10)
        if document.due > 0:
            _line(pdf, _("To be paid by {date}.").format(date=format_short_date(document.due_on)))
        else:
            _line(pdf, _("This invoice is paid. Thank you."))
        pdf.ln(4)
        _how_to_pay(pdf, structure, online_payment)
        return bytes(pdf.output())


def build_attestation_pdf(document: AttestationDocument, structure: Structure) -> bytes:
    """The attestation de frais de garde of a calendar year."""
    with use_language("fr"):
        title = _("Childcare expenses certificate {year}").format(year=document.year)
        pdf = _new_pdf(title, structure)
        _structure_header(pdf, structure)
        _title_block(
            pdf, _("CHILDCARE EXPENSES CERTIFICATE"), [_("Year {year}").format(year=document.year)]
        )
        _addressee(pdf, document.family_number, document.family_name, document.address_lines)
        pdf.set_font(_FONT, size=10)
        signer = structure.service_name or structure.name
        address = ", ".join(document.address_lines)
        pdf.multi_cell(
            0,
            5,
            _text(
                _(
                    "{signer}, {structure}, certifies that the family {name} (family number {number}), "
                    "living at {address}, paid during the year {year} the following amounts for the care "
                    "of their children under 7 (before and after school care, leisure centre; meals excluded):"
                ).format(
                    signer=signer,
                    structure=structure.name,
                    name=document.family_name,
                    number=document.family_number,
                    address=address or "—",
                    year=document.year,
                )
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(3)
        if document.children:
            _table(
                pdf,
                (_("Child"), _("Date of birth"), _("Amount paid")),
                [
                    (child.name, format_short_date(child.birth_date), format_money(child.amount))
                    for child in document.children
                ],
                widths=(96, 47, 47),
            )
            pdf.ln(3)
            _total_row(
                pdf, _("Total paid in {year}").format(year=document.year), document.total, bold=True
            )
        else:
            _line(
                pdf,
                _("No amount was paid in {year} for the care of a child under 7.").format(
                    year=document.year
                ),
            )
        pdf.ln(6)
        pdf.set_font(_FONT, size=10)
        pdf.multi_cell(
            0,
            5,
            _text(
                _(
                    "This certificate is issued for the tax credit for childcare expenses of young children "
                    "(crédit d'impôt pour frais de garde). Issued on {date}."
                ).format(date=format_short_date(document.issued_on))
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        return bytes(pdf.output())


# --- building blocks -----------------------------------------------------------------------


def _text(value: str) -> str:
    """Text the font can draw."""
    return printable(value)


def _new_pdf(title: str, structure: Structure) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    use_fonts(pdf)
    pdf.set_margins(10, 12, 10)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(_text(title))
    pdf.set_author(_text(structure.name))
    pdf.set_creator("Portail Famille")
    pdf.set_creation_date(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    pdf.add_page()
    return pdf


def _line(pdf: FPDF, text: str, height: float = 5) -> None:
    pdf.cell(0, height, _text(text), new_x="LMARGIN", new_y="NEXT")


def _structure_header(pdf: FPDF, structure: Structure) -> None:
    pdf.set_font(_FONT, style="B", size=13)
    _line(pdf, structure.name, 6)
    pdf.set_font(_FONT, size=9)
    for part in (structure.service_name, structure.address):
        if part:
            _line(pdf, part, 4.5)
    contact = " - ".join(
        p
        for p in (
            _("Phone: {phone}").format(phone=structure.phone) if structure.phone else "",
            structure.email,
        )
        if p
    )
    if contact:
        _line(pdf, contact, 4.5)
    pdf.ln(4)


def _title_block(pdf: FPDF, title: str, lines: Sequence[str]) -> None:
    pdf.set_font(_FONT, style="B", size=16)
    _line(pdf, title, 8)
    pdf.set_font(_FONT, size=10)
    for text in lines:
        _line(pdf, text)
    pdf.ln(3)


def _addressee(pdf: FPDF, family_number: str, name: str, address: Sequence[str]) -> None:
    x = 110.0
    pdf.set_x(x)
    pdf.set_font(_FONT, style="B", size=10)
    pdf.cell(90, 5, _text(name or "—"), new_x="LEFT", new_y="NEXT")
    pdf.set_font(_FONT, size=10)
    for part in address:
        pdf.set_x(x)
        pdf.cell(90, 5, _text(part), new_x="LEFT", new_y="NEXT")
    pdf.set_x(x)
    pdf.cell(
        90,
        5,
        _text(_("Family number: {number}").format(number=family_number)),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(5)


def _table(
    pdf: FPDF, headings: Sequence[str], rows: Sequence[Sequence[str]], *, widths: Sequence[int]
) -> None:
    pdf.set_font(_FONT, size=9)
    align = ("LEFT",) + ("RIGHT",) * (len(headings) - 1)
    with pdf.table(
        col_widths=tuple(widths),
        width=sum(widths),
        text_align=align,
        headings_style=FontFace(emphasis="BOLD", fill_color=_GREY),
        line_height=5,
    ) as table:
        heading = table.row()
        for text in headings:
            heading.cell(_text(text))
        for values in rows:
            row = table.row()
            for text in values:
                row.cell(_text(text))


def _total_row(pdf: FPDF, label: str, amount: Decimal, *, bold: bool = False) -> None:
    pdf.set_font(_FONT, style="B" if bold else "", size=10)
    pdf.cell(140, 6, _text(label), align="R")
    pdf.cell(50, 6, _text(format_money(amount)), align="R", new_x="LMARGIN", new_y="NEXT")


def _how_to_pay(pdf: FPDF, structure: Structure, online_payment: bool) -> None:
    pdf.set_font(_FONT, style="B", size=10)
    _line(pdf, _("How to pay"))
    pdf.set_font(_FONT, size=10)
    parts = [structure.payment_instructions] if structure.payment_instructions else []
    if online_payment:
        parts.append(
            _(
                "You can also pay online in the Portail Famille on Telegram (Account statement, My invoices)."
            )
        )
    if not parts:
        parts.append(
            _("Contact the structure: {contact}.").format(
                contact=structure.phone or structure.email
            )
        )
    pdf.multi_cell(0, 5, _text(" ".join(parts)), new_x="LMARGIN", new_y="NEXT")


def _quantity(quantity: Decimal) -> str:
    return format_decimal(
        quantity.normalize() if quantity == quantity.to_integral_value() else quantity,
        locale=babel_locale(),
    )
