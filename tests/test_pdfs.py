"""The invoice and the attestation as PDFs: their text, extracted with pypdf, is right and French."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal

from pypdf import PdfReader

from bot.domain.billing import BillingPeriod
from bot.domain.model import DayStatus, PaymentMethod
from bot.i18n import use_language
from bot.pdfs import build_attestation_pdf, build_invoice_pdf, invoice_filename
from bot.services.billing import invoice_document
from bot.services.payments import record_payment
from bot.services.statement import attestation_document
from bot.structure import Structure
from storage.db import Database
from tests.support.money import DUPONT, MARTIN, NOW, add_days, family_and_children, issue


def text_of(pdf: bytes) -> str:
    """Every page's text on one line: wrapped lines and non-breaking spaces made single spaces."""
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(
        " ".join(page.extract_text() for page in reader.pages).replace("\xa0", " ").split()
    )


async def test_the_invoice_pdf_says_everything_in_french(
    demo_database: Database, structure: Structure
) -> None:
    await add_days(
        demo_database,
        MARTIN,
        "CHLOÉ",
        "cantine",
        [2, 3, 5, 6, 9],
        DayStatus.PRESENT,
        month=(2026, 11),
    )
    await add_days(
        demo_database,
        MARTIN,
        "CHLOÉ",
        "garderie_matin",
        [2, 3],
        DayStatus.ABSENT_BILLED,
        month=(2026, 11),
    )
    (issued,) = (
        await issue(
            demo_database, structure, BillingPeriod.month(2026, 11), today=dt.date(2026, 12, 1)
        )
    ).issued
    await record_payment(
        demo_database,
        family_number=MARTIN,
        amount=Decimal("10.00"),
        method=PaymentMethod.CASH,
        invoice_number=issued.number,
        paid_on=dt.date(2026, 12, 2),
        staff_id=7,
        reference="r",
        now=NOW,
    )
    martin_id, _ = await family_and_children(demo_database, MARTIN)
    async with demo_database.unit_of_work() as uow:
        document = await invoice_document(
            uow, martin_id, issued.invoice_id, actor_telegram_id=1, now=NOW
        )
    assert document is not None
    with use_language("en"):  # the parent reads English; the invoice stays a French document
        text = text_of(build_invoice_pdf(document, structure))

    for expected in [
        "Mairie de Saint-Jean",
        "Service Enfance Jeunesse",
        "1 place de la Mairie, 31400 SAINT-JEAN",
        "Tél. : 01 02 03 04 00 - enfance@saint-jean.example.fr",
        "FACTURE",
        "N° AL-37",
        "Date de facture : 01/12/2026",
        "Date d’échéance : 26/12/2026",
        "Madame MARTIN SOPHIE",
        "3 chemin des Écoliers",
        "31400 SAINT-JEAN",
        "N° famille : 1001001818332",
        "Régie : Régie garderie ALSH",
        "Période : du 01/11/2026 au 30/11/2026",
        "Désignation Quantité Prix unitaire Montant",
        "Garderie matin — CHLOÉ 2 1,90 € 3,80 €",
        "Restauration scolaire — CHLOÉ 5 4,10 € 20,50 €",
        "Total de la facture 24,30 €",
        "Déjà réglé 10,00 €",
        "Reste à payer 14,30 €",
        "À régler avant le 26/12/2026.",
        "Comment régler",
        "Règlement par chèque à l'ordre du Trésor public",
    ]:
        assert expected in text, f"{expected!r} not in:\n{text}"
    assert "payer en ligne" not in text
    assert invoice_filename(document.number) == "facture-AL-37.pdf"

    paid = dataclasses.replace(document, paid=document.total)
    online = text_of(build_invoice_pdf(paid, structure, online_payment=True))
    assert "Reste à payer 0,00 €" in online and "Cette facture est réglée. Merci." in online
    assert "Vous pouvez aussi payer en ligne dans le Portail Famille sur Telegram" in online


async def test_a_name_outside_the_pdf_font_does_not_break_the_invoice(
    demo_database: Database, structure: Structure
) -> None:
    martin_id, _ = await family_and_children(demo_database, MARTIN)
    await add_days(
        demo_database, MARTIN, "CHLOÉ", "cantine", [2], DayStatus.PRESENT, month=(2026, 11)
    )
    (issued,) = (
        await issue(
            demo_database, structure, BillingPeriod.month(2026, 11), today=dt.date(2026, 12, 1)
        )
    ).issued
    async with demo_database.unit_of_work() as uow:
        document = await invoice_document(
            uow, martin_id, issued.invoice_id, actor_telegram_id=1, now=NOW
        )
    assert document is not None
    odd = dataclasses.replace(
        document,
        family_name="Madame MARTIN Zoë Łucja 李",
        address_lines=("7 rue du Sacré-Cœur", "31400 SAINT-JEAN"),
    )
    text = text_of(build_invoice_pdf(odd, structure))
    assert (
        "Madame MARTIN Zoë Łucja ?" in text
    )  # the TTF font has Ł; a Chinese character is replaced
    assert "7 rue du Sacré-Cœur" in text and "Œ" not in text.replace("Cœur", "")
    assert "Sacre-Coeur" not in text and "C?ur" not in text


async def test_the_attestation_pdf(demo_database: Database, structure: Structure) -> None:
    await add_days(
        demo_database,
        DUPONT,
        "EMMA",
        "garderie_soir",
        [2, 3, 5],
        DayStatus.PRESENT,
        month=(2026, 11),
    )
    (issued,) = (
        await issue(
            demo_database, structure, BillingPeriod.month(2026, 11), today=dt.date(2026, 12, 1)
        )
    ).issued
    await record_payment(
        demo_database,
        family_number=DUPONT,
        amount=issued.total,
        method=PaymentMethod.CESU,
        invoice_number=issued.number,
        paid_on=dt.date(2026, 12, 3),
        staff_id=7,
        reference="r",
        now=NOW,
    )
    dupont_id, _ = await family_and_children(demo_database, DUPONT)
    async with demo_database.unit_of_work() as uow:
        document = await attestation_document(
            uow, structure, dupont_id, 2026, today=dt.date(2027, 1, 4)
        )
    text = text_of(build_attestation_pdf(document, structure))
    for expected in [
        "ATTESTATION DE FRAIS DE GARDE",
        "Année 2026",
        "Monsieur DUPONT JEAN",
        "12 RUE DES BONBONS",
        "Service Enfance Jeunesse, Mairie de Saint-Jean, atteste que la famille Monsieur DUPONT JEAN",
        "enfants de moins de 7 ans",
        "hors frais de repas",
        "Enfant Date de naissance Montant réglé",
        "EMMA DUPONT 02/09/2020 66,00 €",
        "Total réglé en 2026 66,00 €",  # 6,60 + the demo's September
        "crédit d’impôt pour frais de garde des jeunes enfants",
        "Fait le 04/01/2027.",
    ]:
        assert expected in text, f"{expected!r} not in:\n{text}"
    assert "LUCAS" not in text
