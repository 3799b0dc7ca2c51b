"""The whole way of a data-change request: Jean asks in his chat, the card reaches the staff's
group, Claire accepts or refuses there, the record changes (or not) and Jean is told."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from telegram.ext import Application

from bot.domain.model import RequestKind, RequestStatus
from bot.runtime import Runtime
from tests.conversations.conftest import DUPONT, start_application, stop_application
from tests.support.botapi import BotApiStub, ChatMessage, FakeGroup, FakeUser

ADMIN_CHAT = -1009876543210
CLAIRE = 901


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def admin_group(botapi: BotApiStub, runtime: Runtime) -> FakeGroup:
    group = botapi.group(ADMIN_CHAT, "Staff — Service Enfance")
    botapi.admins[ADMIN_CHAT] = [CLAIRE]
    runtime.settings.admin_chat_id = ADMIN_CHAT
    return group


@pytest.fixture
async def bot(runtime: Runtime, admin_group: FakeGroup) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    application = await start_application(runtime)
    try:
        yield application
    finally:
        await stop_application(application)


@pytest.fixture
def claire(botapi: BotApiStub) -> FakeUser:
    return botapi.user(CLAIRE, "Claire", last_name="Morel")


async def next_card(group: FakeGroup) -> ChatMessage:
    """The next message of the group carrying a decision button."""
    for _ in range(5):
        message = await group.next_message(timeout=10)
        if "✅ Accepter" in message.button_labels:
            return message
    raise AssertionError("no request card came")


async def ask_through_the_form(
    jean: FakeUser, block: str, values: list[tuple[str, str]]
) -> ChatMessage:
    await jean.send_command("/accueil")
    await jean.tap(await jean.next_message(), "👤 Mon compte")
    await jean.tap(await jean.next_message(), block)
    await jean.tap(await jean.next_message(), "✏️ Demander une modification")
    form = await jean.next_message()
    for label, value in values:
        await jean.tap(form, label)
        await jean.next_message()
        await jean.send(value)
        form = await jean.next_message()
    await jean.tap(form, "📨 Envoyer la demande")
    await jean.tap(await jean.next_message(), "✅ Confirmer et envoyer")
    return await jean.next_message()


async def family_field(runtime: Runtime, key: str) -> object:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        return getattr(family, key)


async def test_accepted_on_its_card_the_change_is_applied_and_jean_is_told(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    done = await ask_through_the_form(jean, "🏛 Informations CAF", [("N° allocataire", "765 43 21")])
    assert "transmise à la structure" in done.text

    card = await next_card(admin_group)
    text = plain(card.text)
    assert "Modification des informations CAF" in text and "JEAN DUPONT" in text
    assert "1234567 → 7654321" in text  # the current value beside the requested one
    await claire.tap(card, "✅ Accepter")
    told = await jean.next_message()
    assert "Votre demande a été acceptée" in told.text
    assert await family_field(runtime, "caf_number") == "7654321"


async def test_refused_on_its_card_with_a_reason_nothing_changes_and_jean_reads_why(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_command("/accueil")
    await jean.tap(await jean.next_message(), "👤 Mon compte")
    await jean.tap(await jean.next_message(), "🏛 Informations CAF")
    await jean.tap(await jean.next_message(), "✏️ Demander une modification")
    form = await jean.next_message()
    await jean.tap(form, "Quotient familial")
    await jean.next_message()
    await jean.send("912,50")
    await jean.tap(await jean.next_message(), "📨 Envoyer la demande")
    await jean.tap(await jean.next_message(), "✅ Confirmer et envoyer")
    await jean.next_message()  # asks for the attestation
    await jean.send_photo(b"\x89PNG attestation", caption="attestation")
    assert "transmise à la structure" in (await jean.next_message()).text

    card = await next_card(admin_group)
    assert "850,00 € → 912,50 €" in plain(card.text)
    assert any(m.photo for m in admin_group.messages()), "the proof goes with the card"
    await claire.tap(card, "❌ Refuser")
    prompt = await admin_group.next_message()
    await claire.reply_to(prompt, "Attestation de 2024 : merci d'envoyer celle de cette année.")
    told = await jean.next_message()
    assert "Votre demande a été refusée" in told.text and "celle de cette année" in told.text
    assert str(await family_field(runtime, "quotient_familial")) == "850.00"
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        [request] = await uow.repos.requests.of_family(
            family.id, runtime.now() - dt.timedelta(days=1)
        )
    assert request.kind == RequestKind.CAF and request.status == RequestStatus.REFUSED

    await jean.send_command("/accueil")
    await jean.tap(await jean.next_message(), "📋 Liste des demandes")
    listing = plain((await jean.next_message()).text)
    assert (
        "Quotient familial : 850,00 € → 912,50 €" in listing
        and "motif : Attestation de 2024" in listing
    )


async def test_a_new_authorised_person_accepted_on_its_card(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_command("/accueil")
    await jean.tap(await jean.next_message(), "👧 Mes enfants")
    await jean.tap(await jean.next_message(), "👧 LUCAS")
    await jean.tap(await jean.next_message(), "🛡 Les autorisations")
    await jean.tap(await jean.next_message(), "➕ Nouvelle personne")
    form = await jean.next_message()
    for label, value in (
        ("Nom*", "PLRI"),
        ("Lien de parenté*", "Grand-père"),
        ("Téléphone", "06 06 06 06 06"),
    ):
        await jean.tap(form, label)
        await jean.next_message()
        await jean.send(value)
        form = await jean.next_message()
    await jean.tap(form, "📨 Envoyer la demande")
    await jean.tap(await jean.next_message(), "✅ Confirmer et envoyer")
    await jean.next_message()

    card = await next_card(admin_group)
    assert (
        "Nouvelle personne autorisée à chercher LUCAS" in plain(card.text) and "PLRI" in card.text
    )
    await claire.tap(card, "✅ Accepter")
    assert "acceptée" in (await jean.next_message()).text
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        lucas = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS"
        )
        assert [
            (p.last_name, p.phone) for p in await uow.repos.children.authorized_persons(lucas.id)
        ] == [("PLRI", "06 06 06 06 06")]


FULL_IBAN = "FR1420041010050500013M02606"  # not the example the form shows


def _every_text_the_bot_sent(botapi: BotApiStub) -> str:
    """Every text, caption and document the bot sent or edited, in every chat."""
    texts: list[str] = []
    for call in botapi.calls():
        for key in ("text", "caption"):
            if isinstance(call.params.get(key), str):
                texts.append(call.params[key])
    return "\n".join(texts)


async def test_bank_details_read_masked_in_the_card_the_decision_notice_and_the_list_of_requests(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,
    caplog,  # type: ignore[no-untyped-def]
) -> None:
    import logging

    caplog.set_level(logging.INFO)
    jean = botapi.user(101, "Jean")
    marie = botapi.user(102, "Marie")
    await link(jean)
    await link(marie)  # every linked parent is told the decision
    done = await ask_through_the_form(
        jean, "🏦 Coordonnées bancaires", [("IBAN", "FR14 2004 1010 0505 0001 3M02 606")]
    )
    assert "transmise à la structure" in done.text
    card = await next_card(admin_group)
    assert "FR14 •••• •••• 2606" in card.text
    await claire.tap(card, "✅ Accepter")
    assert "Votre demande a été acceptée" in (await jean.next_message()).text
    assert "Votre demande a été acceptée" in (await marie.next_message()).text
    assert await family_field(runtime, "iban") == FULL_IBAN  # applied in full to the record
    await jean.send_command("/accueil")
    await jean.tap(await jean.next_message(), "📋 Liste des demandes")
    listing = plain((await jean.next_message()).text)
    assert "FR14 •••• •••• 2606" in listing

    sent = plain(_every_text_the_bot_sent(botapi)).replace(" ", "")
    assert FULL_IBAN not in sent and "10100505" not in sent
    assert "10100505" not in caplog.text.replace(" ", "")
