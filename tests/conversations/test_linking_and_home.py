"""A parent links their account and sees their home screen — read as the parent's story."""

from __future__ import annotations

import pytest
from telegram.ext import Application

from bot import callbacks
from bot.runtime import Runtime
from tests.conversations.conftest import DUPONT, start_application, stop_application
from tests.support.botapi import BotApiStub

pytestmark = pytest.mark.usefixtures("bot")


def plain(text: str) -> str:
    """Text with the narrow spaces babel puts in amounts made ordinary."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


async def test_invite_link_links_the_account_and_shows_home(
    botapi: BotApiStub, make_invite
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await jean.send_command("/start", await make_invite())
    home = await jean.next_message()
    text = plain(home.text)
    assert text.startswith(
        "✅ Votre compte est maintenant relié"
    )  # one message: the confirmation on top of home
    assert "Bienvenue JEAN DUPONT" in text
    assert "Vous avez 0 nouveau message." in text
    assert "N° famille : 1001001818331" in text
    assert "lundi 23 novembre 2026" in text
    assert "Votre compte présente un solde de 120,60 €." in text
    assert "N° AL-36" in text and "Total : 120,60 €" in text
    assert "Bienvenue sur le Portail Famille" in text
    assert "👤 Mon compte" in home.button_labels and "🚪 Déconnexion" in home.button_labels
    await jean.expect_silence(0.3)


async def test_an_unpaid_invoice_on_the_home_screen_opens_its_pdf_in_one_tap(
    botapi: BotApiStub, link
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    home = jean.last_message()
    assert "N° AL-36" in home.text
    [pdf_data] = [
        b["callback_data"]
        for row in home.buttons
        for b in row
        if b.get("callback_data", "").startswith(f"{callbacks.INVOICE_PDF}:")
    ]
    await jean.tap(home, pdf_data)
    sent = await jean.next_message()
    assert (
        sent.document is not None
        and sent.document["file_name"].endswith(".pdf")
        and "AL-36" in sent.text
    )


async def test_a_used_invite_links_nobody_else(botapi: BotApiStub, make_invite) -> None:  # type: ignore[no-untyped-def]
    code = await make_invite()
    jean, stranger = botapi.user(101, "Jean"), botapi.user(666, "Eve")
    await jean.send_command("/start", code)
    await jean.next_message()
    await stranger.send_command("/start", code)
    answer = await stranger.next_message()
    assert "déjà été utilisé" in answer.text
    await stranger.expect_silence(0.3)
    assert all("DUPONT" not in m.text for m in stranger.messages())


@pytest.mark.parametrize(
    ("ttl_days", "code", "expected"),
    [(30, "not-a-real-code", "n’est pas valable"), (0, None, "a expiré")],
)
async def test_a_wrong_or_expired_code_changes_nothing(
    botapi: BotApiStub,
    make_invite,
    runtime: Runtime,
    ttl_days: int,
    code: str | None,
    expected: str,
) -> None:  # type: ignore[no-untyped-def]
    real = await make_invite(ttl_days=ttl_days)
    eve = botapi.user(666, "Eve")
    await eve.send_command("/start", code or real)
    assert expected in (await eve.next_message()).text
    async with runtime.database.unit_of_work() as uow:
        assert await uow.repos.telegram.active_link(666) is None


async def test_link_with_family_number_and_own_phone(botapi: BotApiStub) -> None:
    jeanne = botapi.user(102, "Jeanne", phone_number="33698765432")
    await jeanne.send_command("/start")
    assert "N° famille" in (await jeanne.next_message()).text
    await jeanne.send("DUPONT")
    assert "que des chiffres" in (await jeanne.next_message()).text
    await jeanne.send("1001 0018 18331")
    prompt = await jeanne.next_message()
    assert jeanne.keyboard == ["📱 Partager mon numéro"], prompt.text
    await jeanne.send_sticker()
    assert "Partager mon numéro" in (await jeanne.next_message()).text
    await jeanne.press("📱 Partager mon numéro")
    assert "maintenant relié" in (await jeanne.next_message()).text
    home = (await jeanne.next_message()).text
    assert "Bienvenue JEANNE DUPONT" in home and "JEAN DUPONT" not in home.replace(
        "JEANNE DUPONT", ""
    )


async def test_someone_elses_contact_or_an_unknown_phone_is_refused(
    botapi: BotApiStub, runtime: Runtime
) -> None:
    eve = botapi.user(666, "Eve", phone_number="+33711223344")
    await eve.send_command("/start")
    await eve.next_message()
    await eve.send(DUPONT)
    await eve.next_message()
    await eve.share_contact("+33612345678", user_id=101)  # Jean's card, not hers
    assert "votre propre numéro" in (await eve.next_message()).text
    await eve.send_command("/start")
    await eve.next_message()
    await eve.send(DUPONT)
    await eve.next_message()
    await eve.share_contact()
    assert "ne correspondent pas" in (await eve.next_message()).text
    async with runtime.database.unit_of_work() as uow:
        assert await uow.repos.telegram.active_link(666) is None
        refusals = [
            e for e in await uow.repos.audit.entries(action="link") if e.outcome == "refused"
        ]
    assert [e.details["reason"] for e in refusals] == ["not_own_contact", "no_match"]


async def test_an_unlinked_user_is_told_how_to_link_and_sees_no_data(botapi: BotApiStub) -> None:
    eve = botapi.user(666, "Eve")
    for action in ("/accueil", "/deconnexion", "bonjour"):
        await eve.send(action)
        answer = await eve.next_message()
        assert "pas encore relié" in answer.text, action
        assert "DUPONT" not in answer.text and "120" not in answer.text


async def test_menu_tabs_account_children_and_planning(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    home = jean.last_message()
    await jean.tap(home, "👤 Mon compte")
    account = await jean.next_message()
    assert account.message_id == home.message_id  # the same message is edited
    assert "N° famille 1001001818331" in account.text and "JEANNE" in account.text
    await jean.tap(account, "🏠 Retour à l’accueil")
    home = await jean.next_message()
    await jean.tap(home, "👧 Mes enfants")
    children = await jean.next_message()
    assert "LUCAS" in children.text and "CE2" in children.text
    await jean.tap(children, "🏠 Retour à l’accueil")
    home = await jean.next_message()
    await jean.tap(home, "📅 Planning")
    assert "Choisissez un enfant" in (await jean.next_message()).text


async def test_stray_input_gets_an_answer_and_the_way_back(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_sticker()
    answer = await jean.next_message()
    assert "pas compris" in answer.text and answer.button_labels == ["🏠 Retour à l’accueil"]
    await jean.send("/inconnue")
    assert "pas compris" in (await jean.next_message()).text


async def test_logout_unlinks_after_confirmation(botapi: BotApiStub, link) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_command("/deconnexion")
    confirm = await jean.next_message()
    await jean.tap(confirm, "Oui, me déconnecter")
    assert "déconnecté" in (await jean.next_message()).text
    await jean.send_command("/accueil")
    assert "pas encore relié" in (await jean.next_message()).text


async def test_english_is_chosen_with_langue_and_kept(
    botapi: BotApiStub, link, runtime: Runtime
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_command("/langue")
    await jean.tap(await jean.next_message(), "🇬🇧 English")
    assert "speak English" in (await jean.next_message()).text
    await jean.send_command("/accueil")
    assert "Welcome JEAN DUPONT" in (await jean.next_message()).text
    runtime.languages.clear()  # the choice is read back from the database
    await jean.send_command("/accueil")
    assert "Welcome JEAN DUPONT" in (await jean.next_message()).text


async def test_telegram_app_language_is_used_when_nothing_is_chosen(botapi: BotApiStub) -> None:
    mary = botapi.user(303, "Mary", language_code="en-GB")
    await mary.send("hello")
    assert "not linked to a family yet" in (await mary.next_message()).text


async def test_group_messages_are_not_answered_as_parent_dialogues(botapi: BotApiStub) -> None:
    group = botapi.group(-100123, "Parents")
    jean = botapi.user(101, "Jean")
    await jean.send("bonjour", chat=group)
    await group.expect_silence(0.4)


async def test_the_command_menu_is_published_in_french(botapi: BotApiStub) -> None:
    await botapi.wait_for_delivery()
    commands = [c["command"] for c in botapi.my_commands()]
    assert {"accueil", "start", "langue", "deconnexion"} <= set(commands)
    assert any(c["description"] == "Accueil" for c in botapi.my_commands())


async def test_a_dialogue_in_progress_survives_a_restart(
    botapi: BotApiStub, runtime: Runtime, bot: Application
) -> None:  # type: ignore[type-arg]
    jeanne = botapi.user(102, "Jeanne", phone_number="+33698765432")
    await jeanne.send_command("/start")
    await jeanne.next_message()
    await jeanne.send(DUPONT)
    await jeanne.next_message()
    await stop_application(bot)
    restarted = await start_application(runtime)
    try:
        await jeanne.share_contact()
        assert "maintenant relié" in (await jeanne.next_message()).text
    finally:
        await stop_application(restarted)


async def test_an_error_is_answered_in_french_and_logged_without_personal_data(
    botapi: BotApiStub,
    link,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)

    async def broken(db, user_id):  # type: ignore[no-untyped-def]
        raise ValueError("DUPONT JEAN 06 12 34 56 78 FR7630006000011234567890189")

    monkeypatch.setattr("conversations.home.home_summary", broken)
    with caplog.at_level("INFO"):
        await jean.send_command("/accueil")
        answer = await jean.next_message()
    assert "une erreur est survenue" in answer.text and "/accueil" in answer.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "ValueError" in logged
    assert "DUPONT" not in logged and "06 12" not in logged and "FR76" not in logged


@pytest.mark.parametrize(
    "path",
    [
        ["💶 Relevé de compte", "📄 Mes factures"],
        ["💶 Relevé de compte", "💶 Mes règlements"],
        ["👤 Mon compte", "🏛 Informations CAF"],
        ["📋 Liste des demandes"],
    ],
)
async def test_every_screen_two_levels_deep_offers_the_way_home(
    botapi: BotApiStub, link, path: list[str]
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(101, "Jean")
    await link(jean)
    screen = jean.last_message()
    for label in path:
        await jean.tap(screen, label)
        screen = await jean.next_message()
    assert callbacks.build(callbacks.HOME) in [
        b.get("callback_data") for row in screen.buttons for b in row
    ], screen.button_labels
    await jean.tap(screen, callbacks.build(callbacks.HOME))
    assert "Bienvenue" in (await jean.next_message()).text


async def test_after_refusing_someone_elses_contact_sharing_ones_own_number_links_at_once(
    botapi: BotApiStub, runtime: Runtime
) -> None:
    jeanne = botapi.user(102, "Jeanne", phone_number="33698765432")
    await jeanne.send_command("/start")
    await jeanne.next_message()
    await jeanne.send(DUPONT)
    await jeanne.next_message()
    await jeanne.share_contact("+33612345678", user_id=101)  # Jean's card, not hers
    assert "votre propre numéro" in (await jeanne.next_message()).text
    await jeanne.share_contact()  # her own, on file: no need to start again
    assert "maintenant relié" in (await jeanne.next_message()).text
    async with runtime.database.unit_of_work() as uow:
        assert await uow.repos.telegram.active_link(102) is not None
