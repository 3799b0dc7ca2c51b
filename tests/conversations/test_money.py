"""Money in the chat, read as the parents' and the staff's stories: the relevé de compte, an
invoice's PDF, paying online, new invoices announced, payments recorded by staff, tariffs."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.model import DayStatus, PaymentMethod
from bot.runtime import Runtime
from storage.models import Invoice
from tests.conversations.conftest import DUPONT, MARTIN, Clock
from tests.support.botapi import BotApiStub
from tests.support.money import add_days
from tests.test_pdfs import text_of

pytestmark = pytest.mark.usefixtures("bot")
STAFF_GROUP = -1001234567890


def plain(text: str) -> str:
    """Text with the narrow spaces babel puts in amounts made ordinary."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def open_statement(user, home):  # type: ignore[no-untyped-def]
    await user.tap(home, "💶 Relevé de compte")
    return await user.next_message()


async def test_the_account_statement_of_the_school_year(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    home = jean.last_message()
    statement = await open_statement(jean, home)
    text = plain(statement.text)
    assert statement.message_id == home.message_id  # edited in place
    assert "Relevé de compte" in text and "Année scolaire : 2026-2027" in text
    assert text.index("AL-36") < text.index("AL-228") < text.index("AL-12")
    assert (
        "Facture : 01/10/2026 - 31/10/2026" in text and "Facture : 01/09/2026 - 30/09/2026" in text
    )
    assert "Règlement : Chèque" in text and "Régie garderie ALSH — crédit 243,20 €" in text
    assert "Ancien solde : 0,00 €" in text
    assert "Total de l’année : débit 363,80 € · crédit 243,20 €" in text
    assert "Solde du compte pour l’année scolaire : 120,60 €" in text
    assert "Le règlement en ligne n’est pas disponible. Règlement par chèque" in text
    assert statement.button_labels == [
        "📄 Mes factures",
        "💶 Mes règlements",
        "🏠 Retour à l’accueil",
    ]

    await jean.tap(statement, "💶 Mes règlements")
    payments = await jean.next_message()
    assert "AL-228" in payments.text and "Chèque, 243,20" in plain(payments.text)
    await jean.tap(payments, "◀ Relevé de compte 2026-2027")
    assert "Solde du compte" in (await jean.next_message()).text


async def test_year_to_year_navigation(botapi: BotApiStub, link, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        regie = await uow.repos.structure.regie_by_code("AL")
        uow.session.add(
            Invoice(
                number="AL-5",
                family_id=family.id,
                regie_id=regie.id,  # type: ignore[union-attr]
                period_start=dt.date(2026, 5, 1),
                period_end=dt.date(2026, 5, 31),
                issued_on=dt.date(2026, 6, 5),
                due_on=dt.date(2026, 6, 30),
                total=Decimal("50.00"),
            )
        )
        await uow.commit()
    jean = botapi.user(101, "Jean")
    await link(jean)
    statement = await open_statement(jean, jean.last_message())
    assert "Ancien solde : 50,00 €" in plain(statement.text)
    assert "Solde du compte pour l’année scolaire : 170,60 €" in plain(statement.text)
    await jean.tap(statement, "◀ 2025-2026")
    previous = await jean.next_message()
    assert previous.message_id == statement.message_id
    assert (
        "Année scolaire\u00a0: 2025-2026" in previous.text
        and "AL-5" in previous.text
        and "AL-36" not in previous.text
    )
    assert "Solde du compte pour l’année scolaire : 50,00 €" in plain(previous.text)
    assert "2026-2027 ▶" in previous.button_labels and "◀ 2024-2025" not in previous.button_labels
    await jean.tap(previous, "2026-2027 ▶")
    assert "AL-36" in (await jean.next_message()).text


async def test_an_invoice_pdf_from_my_invoices(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    statement = await open_statement(jean, jean.last_message())
    await jean.tap(statement, "📄 Mes factures")
    invoices = await jean.next_message()
    text = plain(invoices.text)
    assert "AL-36" in text and "reste à payer : 120,60 €" in text and "réglée ✅" in text
    assert "📄 AL-36 (PDF)" in invoices.button_labels and not any(
        "Payer" in b for b in invoices.button_labels
    )
    await jean.tap(invoices, "📄 AL-36 (PDF)")
    sent = await jean.next_message()
    assert sent.document is not None and sent.document["file_name"] == "facture-AL-36.pdf"
    assert "Facture AL-36 — 120,60 €" in plain(sent.caption or "")
    pdf = text_of(botapi.file_content(sent.document["file_id"]))
    assert (
        "FACTURE N° AL-36" in pdf
        and "Total de la facture 120,60 €" in pdf
        and "Reste à payer 120,60 €" in pdf
    )


async def test_a_forged_invoice_button_is_refused_and_audited(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    async with runtime.database.unit_of_work() as uow:
        dupont_invoice = await uow.repos.accounts.invoice_by_number("AL-36")
    sophie = botapi.user(201, "Sophie")
    await link(sophie, MARTIN)
    statement = await open_statement(sophie, sophie.last_message())
    # Sophie's client rewrites a button to ask for the DUPONT family's invoice.
    stored = botapi.chat(sophie.id).messages[statement.message_id]
    stored.data["reply_markup"]["inline_keyboard"][0][0]["callback_data"] = (
        f"ivp:{dupont_invoice.id}"  # type: ignore[union-attr]
    )
    query = await sophie.tap(statement, "📄 Mes factures")
    answer = await botapi.wait_callback_answer(query)
    assert answer["text"] == "Cette facture n’est pas disponible." and answer["show_alert"]
    await sophie.expect_silence(0.3)
    assert not botapi.calls("sendDocument")
    async with runtime.database.unit_of_work() as uow:
        refused = await uow.repos.audit.entries(action="invoice.document")
    assert [(e.outcome, e.actor_telegram_id, e.target) for e in refused] == [
        ("refused", 201, f"invoice:{dupont_invoice.id}")  # type: ignore[union-attr]
    ]


async def test_paying_online_is_recorded_once_even_if_telegram_repeats_it(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    runtime.structure = dataclasses.replace(runtime.structure, online_payment=True)
    runtime.settings.payment_provider_token = "284685063:TEST:provider"
    jean = botapi.user(101, "Jean")
    await link(jean)
    statement = await open_statement(jean, jean.last_message())
    assert "règlement en ligne n’est pas disponible" not in statement.text
    await jean.tap(statement, "📄 Mes factures")
    invoices = await jean.next_message()
    assert (
        "💳 Payer AL-36" in invoices.button_labels
        and "💳 Payer AL-12" not in invoices.button_labels
    )
    await jean.tap(invoices, "💳 Payer AL-36")
    telegram_invoice = await jean.next_message()
    assert telegram_invoice.data["invoice"]["total_amount"] == 12060
    assert telegram_invoice.data["invoice"]["currency"] == "EUR"
    assert botapi.calls("sendInvoice")[0].params["provider_token"] == "284685063:TEST:provider"

    assert await jean.pay(telegram_invoice)
    thanks = await jean.next_message()
    assert (
        "Merci ! Votre règlement de 120,60 € pour la facture AL-36 est enregistré (n° AL-229)"
        in plain(thanks.text)
    )
    # Telegram delivers the same successful payment again.
    paid_message = next(
        m for m in jean.messages(include_user=True) if "successful_payment" in m.data
    )
    botapi.enqueue_update({"message": paid_message.data})
    await botapi.wait_for_delivery()
    await jean.expect_silence(0.4)
    # The invoice is paid now: paying the same Telegram invoice again is refused before charging.
    assert not await jean.pay(telegram_invoice)
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        payments = await uow.repos.accounts.payments_of_family(family.id)  # type: ignore[union-attr]
        assert [(p.number, p.method) for p in payments] == [
            ("AL-228", PaymentMethod.CHEQUE),
            ("AL-229", PaymentMethod.ONLINE),
        ]
        assert await uow.repos.accounts.balance(family.id) == Decimal("0.00")  # type: ignore[union-attr]
    await jean.send_command("/accueil")
    assert "Votre compte présente un solde de 0,00 €." in plain((await jean.next_message()).text)


async def test_a_stranger_cannot_pay_someone_elses_invoice(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    runtime.structure = dataclasses.replace(runtime.structure, online_payment=True)
    runtime.settings.payment_provider_token = "284685063:TEST:provider"
    jean, sophie = botapi.user(101, "Jean"), botapi.user(201, "Sophie")
    await link(jean)
    await link(sophie, MARTIN)
    statement = await open_statement(jean, jean.last_message())
    await jean.tap(statement, "📄 Mes factures")
    await jean.tap(await jean.next_message(), "💳 Payer AL-36")
    telegram_invoice = await jean.next_message()
    # Jean forwards the invoice to Sophie (another family), who tries to pay it.
    assert await sophie.pay(telegram_invoice) is False
    answer = list(botapi.pre_checkout_answers.values())[-1]
    assert (
        answer["ok"] is False and answer["error_message"] == "Cette facture n’est pas disponible."
    )
    async with runtime.database.unit_of_work() as uow:
        assert [
            e.actor_telegram_id for e in await uow.repos.audit.entries(action="payment.online")
        ] == [201]


def staff_group(botapi: BotApiStub, runtime: Runtime):  # type: ignore[no-untyped-def]
    group = botapi.group(STAFF_GROUP, "Personnel")
    botapi.admins[group.id] = [900]
    runtime.settings.admin_chat_id = group.id
    return group, botapi.user(900, "Agnès")


async def test_staff_issue_the_month_and_families_are_told(
    botapi: BotApiStub, link, runtime: Runtime, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    group, agnes = staff_group(botapi, runtime)
    jean, jeanne = botapi.user(101, "Jean"), botapi.user(102, "Jeanne", language_code="en")
    await link(jean)
    await link(jeanne)
    botapi.block(jeanne.id)
    await add_days(
        runtime.database,
        DUPONT,
        "EMMA",
        "alsh_mercredi",
        [4, 18, 25],
        DayStatus.RESERVED,
        month=(2026, 11),
    )
    await add_days(
        runtime.database,
        DUPONT,
        "LUCAS",
        "garderie_matin",
        [2, 3],
        DayStatus.ABSENT_BILLED,
        month=(2026, 11),
    )

    await agnes.send_command("/facturer", "2026-11", chat=group)
    assert "Novembre 2026 n’est pas terminé" in (await group.next_message()).text

    clock.now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    await agnes.send_command("/facturer", "2026-11", chat=group)
    summary = plain((await group.next_message()).text)
    assert "Factures de novembre 2026" in summary
    assert (
        "1 facture(s) émise(s) (AL-37 à AL-37), total 36,00 €." in summary
    )  # 3 × 11,00 + 2 × 1,50
    assert (
        "Familles prévenues : 2 message(s) en cours d’envoi aux comptes reliés." in summary
    )  # Jean's and Jeanne's

    notice = await jean.next_message()
    assert "Une nouvelle facture est disponible" in notice.text
    assert (
        "Facture AL-37 du 01/11/2026 au 30/11/2026 : 36,00 €, à régler avant le 26/12/2026."
        in plain(notice.text)
    )
    await jean.tap(notice, "📄 AL-37 (PDF)")
    pdf = await jean.next_message()
    assert pdf.document is not None and "Garderie matin — LUCAS 2 1,50 € 3,00 €" in text_of(
        botapi.file_content(pdf.document["file_id"])
    )

    # Jeanne blocked the bot: her notice is not delivered, and her account is noted unreachable.
    for _attempt in range(200):
        async with runtime.database.unit_of_work() as uow:
            rows = await uow.repos.outbox.of_template("billing.invoice_issued")
            blocked = await uow.repos.telegram.get_user(jeanne.id)
        if all(row.status not in ("pending", "sending") for row in rows):
            break
        await asyncio.sleep(0.05)
    assert sorted((row.chat_id, row.status) for row in rows) == [
        (101, "sent"),
        (102, "unreachable"),
    ]
    assert blocked is not None and blocked.unreachable_since is not None
    assert not [m for m in jeanne.messages() if "AL-37" in (m.text or "")]

    await agnes.send_command("/facturer", "2026-11", chat=group)
    again = plain((await group.next_message()).text)
    assert "Aucune nouvelle facture." in again and "1 facture(s) déjà émise(s)" in again
    assert "Familles prévenues" not in again
    await jean.expect_silence(0.3)


async def test_someone_outside_the_staff_cannot_issue_invoices(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    _group, _ = staff_group(botapi, runtime)
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_command("/facturer", "2026-10")
    assert "réservée au personnel" in (await jean.next_message()).text
    async with runtime.database.unit_of_work() as uow:
        assert [e.target for e in await uow.repos.audit.entries(action="staff.refused")] == [
            "invoices.issue"
        ]
        assert await uow.repos.audit.entries(action="invoices.issue") == []


async def test_staff_record_a_cheque_and_the_statement_follows(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    group, agnes = staff_group(botapi, runtime)
    await agnes.send_command("/paiement", DUPONT, "120,60", "chèque", chat=group)
    cheque = plain(
        (await group.next_message()).text
    )  # no invoice given: it pays the oldest unpaid one
    assert (
        "Règlement AL-229 enregistré : 120,60 € (Chèque) pour la famille 1001001818331 (JEAN DUPONT)"
        in cheque
    )
    assert "Solde du compte : 0,00 €." in cheque

    command = await agnes.send_command(
        "/paiement", DUPONT, "10", "titre", "émis", "AL-36", chat=group
    )
    warning = await group.next_message()  # AL-36 is paid now: recorded only once confirmed
    await agnes.tap(warning, _data_starting(warning, "sp:yes:"))
    recorded = plain((await group.next_message()).text)
    assert "Règlement AL-230 enregistré : 10,00 € (Titre émis (Trésor public))" in recorded
    assert "Facture AL-36 : réglée." in recorded and "Solde du compte : -10,00 €." in recorded
    botapi.enqueue_update({"message": command.data})  # the same command delivered again
    assert "déjà été enregistré (n° AL-230)" in (await group.next_message()).text

    await agnes.send_command("/paiement", MARTIN, "3", "titre", "émis", chat=group)
    warning = await group.next_message()  # nothing is due by MARTIN: an advance, once confirmed
    await agnes.tap(warning, _data_starting(warning, "sp:yes:"))
    assert (
        "Règlement AL-231 enregistré : 3,00 € (Titre émis (Trésor public)) pour la famille 1001001818332"
        in plain((await group.next_message()).text)
    )
    await agnes.send_command("/paiement", DUPONT, "douze", "chèque", chat=group)
    assert (
        "Utilisation\u00a0: /paiement N_FAMILLE MONTANT MODE [N_FACTURE]"
        in (await group.next_message()).text
    )
    await agnes.send_command("/paiement", MARTIN, "5", "cb", "AL-36", chat=group)
    assert "n’est pas une facture de la famille 1001001818332" in (await group.next_message()).text

    jean = botapi.user(101, "Jean")
    await link(jean)
    statement = plain((await open_statement(jean, jean.last_message())).text)
    assert "Solde du compte pour l’année scolaire : 10,00 € en votre faveur" in statement
    assert "Titre émis" in statement and "trésorerie" in statement


def _data_starting(message, prefix: str) -> str:  # type: ignore[no-untyped-def]
    return next(
        b["callback_data"]
        for row in message.buttons
        for b in row
        if b.get("callback_data", "").startswith(prefix)
    )


async def test_a_payment_on_a_paid_invoice_or_above_what_is_due_waits_for_confirmation(
    botapi: BotApiStub, runtime: Runtime
) -> None:
    group, agnes = staff_group(botapi, runtime)
    await agnes.send_command("/paiement", DUPONT, "120,60", "chèque", "AL-36", chat=group)
    assert "Règlement AL-229 enregistré" in plain(
        (await group.next_message()).text
    )  # what was due: no question

    await agnes.send_command(
        "/paiement", DUPONT, "120,60", "chèque", "AL-36", chat=group
    )  # the same cheque again
    warning = await group.next_message()
    assert "Facture AL-36 déjà réglée" in plain(
        warning.text
    ) and "Rien n’est encore enregistré" in plain(warning.text)
    await agnes.tap(warning, _data_starting(warning, "sp:no:"))
    assert "Règlement non enregistré" in (await group.next_message()).text

    await agnes.send_command("/paiement", DUPONT, "500", "chèque", chat=group)
    too_much = await group.next_message()
    assert "500,00 € dépasse les 0,00 € dus par la famille 1001001818331" in plain(too_much.text)
    confirm = _data_starting(too_much, "sp:yes:")
    await agnes.tap(too_much, confirm)
    assert "Règlement AL-230 enregistré" in plain((await group.next_message()).text)
    answer = await agnes.tap_data(
        too_much, confirm
    )  # a second tap (a slow client) records nothing more
    assert "déjà été enregistré" in (await botapi.wait_callback_answer(answer))["text"]
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        assert family is not None and await uow.repos.accounts.balance(family.id) == Decimal(
            "-500.00"
        )

    await agnes.send_command("/annuler_paiement", "AL-230", chat=group)
    cancelled = plain((await group.next_message()).text)
    assert (
        "Règlement AL-230 annulé : 500,00 € (Chèque)" in cancelled
        and "Solde du compte : 0,00 €." in cancelled
    )
    await agnes.send_command("/annuler_paiement", "AL-230", chat=group)
    assert "Aucun règlement n’a le numéro AL-230" in (await group.next_message()).text
    async with runtime.database.unit_of_work() as uow:
        audit = await uow.repos.audit.entries(action="payment.cancel")
        assert [(e.outcome, e.details.get("amount")) for e in audit] == [
            ("ok", "500.00"),
            ("refused", None),
        ]


async def test_current_tariffs(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_command("/tarifs")
    text = plain((await jean.next_message()).text)
    assert (
        "Tarifs en cours" in text
        and "Quotient familial : 850,00 €" in text
        and "Régime : CAF" in text
    )
    assert "• Garderie matin : 1,50 € par jour" in text
    assert "• Restauration scolaire : 3,50 € par repas" in text
    assert "• Goûter : 0,60 € par goûter" in text
    assert "• Accueil de Loisirs ALSH Mercredi journée : 11,00 € par jour" in text
