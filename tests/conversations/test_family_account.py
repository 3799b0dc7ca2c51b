"""Mon compte: Jean reads his fiche famille and asks for changes, one field at a time; staff
decide; Liste des demandes tells him the outcome."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from telegram.ext import Application

from bot.domain.model import RequestKind
from bot.runtime import Runtime
from bot.services.requests import decide_request
from tests.conversations.conftest import DUPONT, start_application, stop_application
from tests.conversations.family_support import forge_tap
from tests.support.botapi import BotApiStub, ChatMessage, FakeUser

pytestmark = pytest.mark.usefixtures("bot")


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def open_block(jean: FakeUser, block: str) -> ChatMessage:
    await jean.send_command("/accueil")
    await jean.tap(await jean.next_message(), "👤 Mon compte")
    account = await jean.next_message()
    await jean.tap(account, block)
    return await jean.next_message()


async def pending_requests(runtime: Runtime, kind: RequestKind | None = None):  # type: ignore[no-untyped-def]
    async with runtime.database.unit_of_work() as uow:
        return [r for r in await uow.repos.requests.pending() if kind is None or r.kind == kind]


async def decide(
    runtime: Runtime, request_id: int, accept: bool, reason: str | None = None
) -> None:
    async with runtime.database.unit_of_work() as uow:
        await decide_request(
            uow,
            request_id,
            accept=accept,
            staff_id=901,
            staff_name="Claire",
            now=runtime.now(),
            reason=reason,
        )
        await uow.commit()


async def test_the_fiche_famille_shows_every_block_with_the_iban_masked(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        family.iban = "FR7630006000011234567890189"
        await uow.commit()
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.tap(jean.last_message(), "👤 Mon compte")
    account = plain((await jean.next_message()).text)
    assert "N° famille 1001001818331" in account
    assert "JEAN DUPONT" in account and "JEANNE" in account
    assert "régime CAF" in account and "n° allocataire 1234567" in account and "850,00 €" in account
    assert "FR76 •••• •••• 0189" in account and "30006000011234567890189" not in account
    bank = await jean.tap(jean.last_message(), "🏦 Coordonnées bancaires")
    assert bank
    block = await jean.next_message()
    assert (
        "IBAN\u00a0: FR76 •••• •••• 0189" in block.text
        and "Titulaire du compte\u00a0: DUPONT JEAN" in block.text
    )
    assert "✏️ Demander une modification" in block.button_labels


async def test_jean_changes_his_mobile_and_email_with_checks_and_staff_accept(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    block = await open_block(jean, "👤 Infos responsable")
    assert "Mobile\u00a0: 06 12 34 56 78" in block.text
    await jean.tap(block, "✏️ Demander une modification")
    form = await jean.next_message()
    assert "Touchez un champ" in form.text

    await jean.tap(form, "Mobile")
    prompt = (await jean.next_message()).text
    assert (
        "nouvelle valeur pour Mobile" in prompt and "Actuellement\u00a0: 06 12 34 56 78" in prompt
    )
    await jean.send("06 12 34")
    refusal = await jean.next_message()
    assert (
        "n’est pas valable" in refusal.text and "reste du formulaire est conservé" in refusal.text
    )
    await jean.send("07 81 22 33 44")
    form = await jean.next_message()
    assert "Mobile\u00a0: 06 12 34 56 78 → 07 81 22 33 44" in form.text
    assert "✅ Mobile" in form.button_labels

    await jean.tap(form, "Email")
    await jean.next_message()
    await jean.send("jean.dupont@")
    assert "adresse email n’est pas valable" in (await jean.next_message()).text
    await jean.send("jean@example.org")
    form = await jean.next_message()
    assert (
        "07 81 22 33 44" in form.text and "jean.dupont@example.fr → jean@example.org" in form.text
    )  # nothing lost

    await jean.tap(form, "📨 Envoyer la demande")
    check = await jean.next_message()
    assert "Vérifiez votre demande" in check.text
    assert "Mobile\u00a0: 06 12 34 56 78 → 07 81 22 33 44" in check.text
    assert "Civilité" not in check.text  # only what changes
    assert await pending_requests(runtime) == []  # nothing saved before confirming
    await jean.tap(check, "✅ Confirmer et envoyer")
    assert "transmise à la structure" in (await jean.next_message()).text

    [request] = await pending_requests(runtime)
    assert request.kind == RequestKind.RESPONSABLE and request.created_by == 101
    assert request.payload["values"] == {
        "phone_mobile": "07 81 22 33 44",
        "email": "jean@example.org",
    }
    block = await open_block(jean, "👤 Infos responsable")
    assert "Demandes de modifications en cours" in block.text and "07 81 22 33 44" in block.text
    assert "Mobile\u00a0: 06 12 34 56 78" in block.text  # unchanged until staff accept

    await decide(runtime, request.id, accept=True)
    block = await open_block(jean, "👤 Infos responsable")
    assert (
        "Mobile\u00a0: 07 81 22 33 44" in block.text
        and "Email\u00a0: jean@example.org" in block.text
    )
    assert "en cours" not in block.text


async def test_a_refused_request_shows_its_reason_in_the_list(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    block = await open_block(jean, "🧾 Informations fiscales")
    await jean.tap(block, "✏️ Demander une modification")
    form = await jean.next_message()
    await jean.tap(form, "Régime allocataire")
    choices = await jean.next_message()
    await jean.tap(choices, "MSA")
    form = await jean.next_message()
    assert "Régime allocataire\u00a0: CAF → MSA" in form.text
    await jean.tap(form, "📨 Envoyer la demande")
    await jean.tap(await jean.next_message(), "✅ Confirmer et envoyer")
    done = await jean.next_message()
    [request] = await pending_requests(runtime)
    await decide(runtime, request.id, accept=False, reason="Attestation MSA manquante")

    await jean.tap(done, "📋 Liste des demandes")
    listing = plain((await jean.next_message()).text)
    assert "Demandes refusées" in listing
    assert "Modification des informations fiscales" in listing
    assert "Régime allocataire : CAF → MSA" in listing
    assert "refusée le 23/11/2026 — motif : Attestation MSA manquante" in listing
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        assert family.regime is not None and family.regime.value == "caf"


async def test_a_new_quotient_familial_comes_with_its_attestation(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    block = await open_block(jean, "🏛 Informations CAF")
    await jean.tap(block, "✏️ Demander une modification")
    form = await jean.next_message()
    await jean.tap(form, "Quotient familial")
    await jean.next_message()
    await jean.send("neuf cents")
    assert "montant en euros" in (await jean.next_message()).text
    await jean.send("912,50")
    form = await jean.next_message()
    assert "850,00 € → 912,50 €" in plain(form.text)
    await jean.tap(form, "📨 Envoyer la demande")
    check = await jean.next_message()
    assert "justificatif" in check.text
    await jean.tap(check, "✅ Confirmer et envoyer")
    assert "Joignez votre attestation" in (await jean.next_message()).text
    await jean.send_sticker()
    assert "photo ou un fichier PDF" in (await jean.next_message()).text
    assert await pending_requests(runtime) == []
    await jean.send_document(b"%PDF-1.4 attestation", "attestation-caf.pdf")
    assert "transmise à la structure" in (await jean.next_message()).text
    [request] = await pending_requests(runtime, RequestKind.CAF)
    assert request.attachment_kind == "document" and request.attachment_file_id
    assert botapi.file_content(request.attachment_file_id) == b"%PDF-1.4 attestation"
    await decide(runtime, request.id, accept=True)
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        assert str(family.quotient_familial) == "912.50"


async def test_bank_details_are_checked_before_anything_is_saved(
    botapi: BotApiStub, link, runtime: Runtime, caplog
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    jean = botapi.user(101, "Jean")
    await link(jean)
    block = await open_block(jean, "🏦 Coordonnées bancaires")
    await jean.tap(block, "✏️ Demander une modification")
    form = await jean.next_message()
    await jean.tap(form, "IBAN")
    await jean.next_message()
    await jean.send("FR76 3000 6000 0112 3456 7890 188")
    assert "faute de frappe" in (await jean.next_message()).text
    await jean.send("FR76 3000 6000 0112 3456 7890 189")
    form = await jean.next_message()
    await jean.tap(form, "BIC")
    await jean.next_message()
    await jean.send("BNP")
    assert "BIC n’est pas valable" in (await jean.next_message()).text
    await jean.send("BNPAFRPP")
    form = await jean.next_message()
    await jean.tap(form, "Prélèvement")
    await jean.tap(await jean.next_message(), "Oui")
    form = await jean.next_message()
    assert "Prélèvement\u00a0: non → oui" in form.text
    await jean.tap(form, "📨 Envoyer la demande")
    check = await jean.next_message()
    confirm_data = check.button("✅ Confirmer et envoyer")["callback_data"]
    await jean.tap(check, "✅ Confirmer et envoyer")
    await jean.next_message()
    again = forge_tap(botapi, jean, check, confirm_data)  # a second tap, delivered late
    assert "déjà été envoyée" in (await botapi.wait_callback_answer(again))["text"]
    requests = await pending_requests(runtime, RequestKind.BANK)
    assert len(requests) == 1
    assert requests[0].payload["values"] == {
        "iban": "FR7630006000011234567890189",
        "bic": "BNPAFRPP",
        "direct_debit": "yes",
    }
    assert (
        "6000011234567890" not in caplog.text and "BNPAFRPP" not in caplog.text
    )  # bank details never logged
    assert f"request {requests[0].id} (bank)" in caplog.text  # ids and kinds only


async def test_required_fields_and_no_change_are_said_before_sending(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    block = await open_block(jean, "👤 Infos responsable")
    await jean.tap(block, "✏️ Demander une modification")
    form = await jean.next_message()
    query = await jean.tap(form, "📨 Envoyer la demande")
    assert "rien modifié" in (await botapi.wait_callback_answer(query))["text"]
    await jean.tap(form, "Nom")
    await jean.next_message()
    await jean.send("-")
    assert "obligatoire" in (await jean.next_message()).text
    await jean.send("/annuler")
    assert "Annulé\u00a0: rien n’a été envoyé." in (await jean.next_message()).text
    assert await pending_requests(runtime) == []


async def test_leaving_a_question_for_another_tab_lets_later_messages_alone(
    botapi: BotApiStub, link
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    block = await open_block(jean, "👤 Infos responsable")
    await jean.tap(block, "✏️ Demander une modification")
    form = await jean.next_message()
    await jean.tap(form, "Mobile")
    await jean.next_message()
    await jean.send_command("/langue")  # another feature's command
    assert "Français" in str((await jean.next_message()).button_labels)
    await jean.send("bonjour")
    assert "pas compris" in (await jean.next_message()).text


async def test_a_form_in_progress_survives_a_restart(
    botapi: BotApiStub, link, runtime: Runtime, bot: Application
) -> None:  # type: ignore[no-untyped-def,type-arg]
    jean = botapi.user(101, "Jean")
    await link(jean)
    block = await open_block(jean, "👤 Infos responsable")
    await jean.tap(block, "✏️ Demander une modification")
    form = await jean.next_message()
    await jean.tap(form, "Ville")
    await jean.next_message()
    await jean.send("SAINT-PAUL")
    await jean.next_message()
    await jean.tap(jean.last_message(), "Code postal")
    await jean.next_message()
    await stop_application(bot)
    restarted = await start_application(runtime)
    try:
        await jean.send("73730")
        form = await jean.next_message()
        assert "SAINT-JEAN → SAINT-PAUL" in form.text and "31400 → 73730" in form.text
    finally:
        await stop_application(restarted)


async def test_the_list_of_requests_filters_by_type_and_looks_further_back(
    botapi: BotApiStub, link, runtime: Runtime, clock
) -> None:  # type: ignore[no-untyped-def]
    from bot.services import family_requests

    jean = botapi.user(101, "Jean")
    await link(jean)
    old = await family_requests.submit_form(
        runtime.database,
        101,
        form_code="fiscal",
        values={"organisme_rattachement": "CAF 31"},
        now=clock.now - dt.timedelta(days=60),
        today=runtime.today(),
    )
    recent = await family_requests.submit_form(
        runtime.database,
        101,
        form_code="bank",
        values={"bank_name": "Crédit Agricole"},
        now=clock.now - dt.timedelta(days=2),
        today=runtime.today(),
    )
    await decide(runtime, old.request.id, accept=True)
    await decide(runtime, recent.request.id, accept=True)
    await jean.tap(jean.last_message(), "📋 Liste des demandes")
    listing = await jean.next_message()
    assert "Modification des coordonnées bancaires" in listing.text
    assert "informations fiscales" not in listing.text  # two months old
    await jean.tap(listing, "3 mois")
    listing = await jean.next_message()
    assert "Modification des informations fiscales" in listing.text
    await jean.tap(listing, "Fiscales")
    listing = await jean.next_message()
    assert (
        "informations fiscales" in listing.text and "bancaires" not in listing.text.split("Type")[1]
    )
    assert "• Fiscales" in listing.button_labels
    await jean.tap(listing, "Absences")
    assert "Aucune demande" in (await jean.next_message()).text


async def test_opening_my_account_while_writing_to_the_structure_sends_nothing(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.tap(jean.last_message(), "✉️ Boîte de réception")
    await jean.tap(await jean.next_message(), "✍️ Écrire à la structure")
    writing = await jean.next_message()
    forge_tap(
        botapi, jean, writing, "menu:account"
    )  # he changes his mind: Mon compte, from an older menu
    assert "Mon compte" in (await jean.next_message()).text
    await jean.send("bonjour")
    assert "pas compris" in (await jean.next_message()).text
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        assert (await uow.repos.export.rows_of_family(family.id))[
            "messages"
        ] == []  # nothing went to the structure
