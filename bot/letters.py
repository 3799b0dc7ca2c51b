"""The invitation letters: one A4 page per family, to print and fold into a window envelope.

Each page has the structure's name and contact at the top left, the responsable's name and
postal address where a right-hand window envelope (DL, 110 × 220 mm, folded in three) shows
it, a short text saying what the bot offers and how to open it, the family's one-time
invitation link with its QR code, the N° famille and the date the invitation expires. Always
in French (an official letter of a French structure). Pure: plain data in, bytes out.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

import segno
from fpdf import FPDF

from bot.i18n import _, format_day, use_language
from bot.pdf_fonts import printable, use_fonts
from bot.structure import Structure

# The window of a DL envelope with its window on the right: 100 × 45 mm, 20 mm from the right
# edge and 50 mm from the top of the folded A4 sheet (NF standard positions).
WINDOW_X, WINDOW_Y, WINDOW_W, WINDOW_H = 110.0, 50.0, 90.0, 40.0
MARGIN = 18.0
QR_SIZE = 42.0


@dataclass(frozen=True)
class Letter:
    """What one family's letter shows."""

    family_number: str
    name: str
    """"Monsieur DUPONT JEAN"."""
    address_lines: tuple[str, ...]
    link: str
    expires_on: dt.date


def letters_filename(today: dt.date) -> str:
    """ "lettres-invitation-2026-11-23.pdf"."""
    return f"lettres-invitation-{today.isoformat()}.pdf"


def build_letters_pdf(letters: Sequence[Letter], structure: Structure, *, today: dt.date) -> bytes:
    """The letters, one page each, in the order given."""
    with use_language("fr"):
        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        font = use_fonts(pdf)
        pdf.set_margins(MARGIN, 15, MARGIN)
        pdf.set_auto_page_break(auto=False)
        pdf.set_title(printable(_("Invitation letters")))
        pdf.set_author(printable(structure.name))
        pdf.set_creator("Portail Famille")
        pdf.set_creation_date(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        for letter in letters:
            _page(pdf, font, letter, structure, today)
        return bytes(pdf.output())


def _cell(pdf: FPDF, text: str, height: float = 5.0, *, width: float = 0, align: str = "L") -> None:
    pdf.cell(width, height, printable(text), align=align, new_x="LMARGIN", new_y="NEXT")


def _page(pdf: FPDF, font: str, letter: Letter, structure: Structure, today: dt.date) -> None:
    pdf.add_page()
    pdf.set_xy(MARGIN, 15)
    pdf.set_font(font, style="B", size=13)
    _cell(pdf, structure.name, 6, width=85)
    pdf.set_font(font, size=9)
    for part in (structure.service_name, structure.address, structure.phone, structure.email):
        if part:
            pdf.set_x(MARGIN)
            _cell(pdf, part, 4.5, width=85)

    pdf.set_xy(WINDOW_X, WINDOW_Y)
    pdf.set_font(font, style="B", size=11)
    pdf.cell(WINDOW_W, 6, printable(letter.name or "—"), new_x="LEFT", new_y="NEXT")
    pdf.set_font(font, size=11)
    for part in letter.address_lines:
        pdf.cell(WINDOW_W, 5.5, printable(part), new_x="LEFT", new_y="NEXT")

    pdf.set_xy(MARGIN, WINDOW_Y + WINDOW_H + 8)
    pdf.set_font(font, size=10)
    _cell(pdf, _("Family number: {number}").format(number=letter.family_number))
    _cell(pdf, _("On {date}").format(date=format_day(today)))
    pdf.ln(5)
    pdf.set_font(font, style="B", size=13)
    _cell(pdf, _("Your Portail Famille on Telegram"), 7)
    pdf.ln(2)
    pdf.set_font(font, size=10)
    body = [
        _("Dear parents,"),
        "",
        _(
            "{structure} opens its Portail Famille in Telegram, the messaging application of your phone. "
            "There you can:"
        ).format(structure=structure.service_name or structure.name),
    ]
    for text in body:
        pdf.multi_cell(0, 5, printable(text), align="L", new_x="LMARGIN", new_y="NEXT")
    for item in (
        _(
            "book or cancel the before and after school care, the school canteen and the leisure centre, and report an absence;"
        ),
        _("see your invoices and your account statement;"),
        _("be reminded before each booking deadline;"),
        _("write to the service and read its answers;"),
        _("ask for a change of your details (address, phones, quotient familial…)."),
    ):
        pdf.set_x(MARGIN + 4)
        pdf.multi_cell(0, 5, printable("• " + item), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(font, style="B", size=10)
    _cell(pdf, _("To open it:"))
    pdf.set_font(font, size=10)
    for step in (
        _("1. Install Telegram from the App Store or Google Play if you do not have it yet."),
        _("2. Scan this QR code with your phone's camera, or type the link below."),
        _("3. Tap “Start”: your Telegram account is linked to your family."),
    ):
        pdf.set_x(MARGIN + 4)
        pdf.multi_cell(0, 5, printable(step), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    top = pdf.get_y()
    picture = io.BytesIO()
    segno.make(letter.link, error="m").save(picture, kind="png", scale=10, border=2)
    picture.seek(0)
    pdf.image(picture, x=MARGIN, y=top, w=QR_SIZE, h=QR_SIZE)
    pdf.set_xy(MARGIN + QR_SIZE + 6, top + 8)
    pdf.set_font(font, size=9)
    pdf.cell(0, 5, printable(_("Your invitation link:")), new_x="LEFT", new_y="NEXT")
    pdf.set_font(font, style="B", size=10)
    pdf.cell(0, 6, printable(letter.link), new_x="LEFT", new_y="NEXT")
    pdf.set_font(font, size=9)
    pdf.cell(
        0,
        5,
        printable(_("Valid once, until {date}.").format(date=format_day(letter.expires_on))),
        new_x="LEFT",
        new_y="NEXT",
    )
    pdf.set_xy(MARGIN, top + QR_SIZE + 6)
    pdf.set_font(font, size=9)
    for text in (
        _(
            "This invitation is personal and works once. The other parent can link their own Telegram account "
            "with your family number and their phone number, if we have it on file, or ask us for another invitation."
        ),
        _("For any question: {contact}.").format(
            contact=" — ".join(part for part in (structure.phone, structure.email) if part)
            or structure.name
        ),
    ):
        pdf.multi_cell(0, 4.5, printable(text), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
