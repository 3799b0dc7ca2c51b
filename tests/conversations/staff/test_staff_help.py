"""Staff helping themselves: /aide, the command menu, a family by name, errors that say what is
wrong, French days and months; a late callback answer; long texts; triaging /demandes."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import callbacks
from bot.domain.model import GuardianRole, RequestStatus
from bot.runtime import Runtime
from bot.services import bookings
from bot.services.bookings import BookingOutcome, DayAction
from bot.telegram_text import utf16_len
from conversations.staff import staff_commands
from storage.models import Family, Guardian
from tests.conversations.conftest import DUPONT
from tests.conversations.staff.conftest import CafChangeType, plain, wait_until
from tests.support.botapi import QUERY_TOO_OLD, BotApiStub, ChatMessage, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")

OTHER_DUPONT = "1001001818399"


def _data(message: ChatMessage, prefix: str) -> list[str]:
    return [
        b["callback_data"]
        for row in message.buttons
        for b in row
        if b.get("callback_data", "").startswith(prefix)
    ]


async def test_a_late_callback_answer_does_not_stop_asking_why_a_request_is_refused(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    link,
    submit,
    caf_type: CafChangeType,  # type: ignore[no-untyped-def]
) -> None:
    await link(botapi.user(101, "Jean"))
    request_id = await submit()
    card = await admin_group.next_message()
    botapi.fail_next("answerCallbackQuery", 400, QUERY_TOO_OLD)
    await claire.tap_data(card, callbacks.build(callbacks.STAFF_REFUSE, request_id))
    prompt = await admin_group.next_message()  # the question still comes
    assert prompt.reply_to_message_id == card.message_id
    assert _data(prompt, callbacks.STAFF_REASON + ":")


async def test_aide_lists_the_staff_commands_in_the_group_and_in_a_private_chat(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser
) -> None:
    await claire.send_command("/aide", chat=admin_group)
    text = plain((await admin_group.next_message()).text)
    for command in (
        "/demandes",
        "/famille",
        "/message",
        "/fermeture",
        "/effectifs",
        "/historique",
        "/facturer",
        "/paiement",
        "/aide",
    ):
        assert command in text, command
    assert "/famille DUPONT" in text and "Usage" not in text  # in French
    await claire.send_command("/aide")  # her private chat, where /start is the parents' linking
    assert "/paiement" in plain((await claire.next_message()).text)
    jean = botapi.user(101, "Jean")
    await jean.send_command("/aide")
    answer = (await jean.next_message()).text
    assert "/accueil" in answer and "/paiement" not in answer  # a parent learns nothing about staff


def test_the_group_menu_offers_every_staff_command() -> None:
    names = {command.command for command in staff_commands()}
    assert {"facturer", "paiement", "documents", "aide", "famille", "demandes"} <= names


async def _another_dupont(runtime: Runtime) -> None:
    async with runtime.database.unit_of_work() as uow:
        family = Family(number=OTHER_DUPONT)
        family.guardians.append(
            Guardian(role=GuardianRole.RESPONSABLE, last_name="DUPONT", first_name="ÉMILE")
        )
        uow.session.add(family)
        await uow.commit()


async def test_famille_takes_a_name_and_offers_a_choice_when_several_families_match(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    await claire.send_command("/famille", "martin", chat=admin_group)
    assert "N° famille 1001001818332" in plain((await admin_group.next_message()).text)

    await _another_dupont(runtime)
    await claire.send_command("/famille", "DUPONT", chat=admin_group)
    choice = await admin_group.next_message()
    picks = _data(choice, callbacks.STAFF_PICK_FAMILY + ":")
    assert [p.rsplit(":", 1)[1] for p in picks] == [DUPONT, OTHER_DUPONT]
    await claire.tap_data(choice, picks[1])
    assert f"N° famille {OTHER_DUPONT}" in plain((await admin_group.next_message()).text)
    # the choice is used once:
    query = await claire.tap_data(choice, picks[0])
    assert "plus valable" in (await botapi.wait_callback_answer(query))["text"]

    await claire.send_command("/famille", "NOBODY", chat=admin_group)
    assert "Aucune famille ne s’appelle" in (await admin_group.next_message()).text


async def test_dates_and_months_in_words_and_errors_that_say_what_is_wrong(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser
) -> None:
    await claire.send_command("/effectifs", "31/02/2027", chat=admin_group)
    assert "31/02/2027 n’existe pas" in (await admin_group.next_message()).text
    await claire.send_command("/effectifs", "3", "décembre", chat=admin_group)
    assert "Effectifs du jeudi 3 décembre 2026" in plain((await admin_group.next_message()).text)
    await admin_group.next_message()  # its CSV
    await claire.send_command("/facturer", "bitcoin", chat=admin_group)
    assert "«\xa0bitcoin\xa0» n’est pas un mois" in (await admin_group.next_message()).text
    await claire.send_command(
        "/historique", "DUPONT", "mardi", chat=admin_group
    )  # a name, a weekday
    assert "Historique du mardi 24 novembre 2026" in plain((await admin_group.next_message()).text)


async def test_a_long_announcement_is_previewed_whole_and_sent(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    body = "\n".join(
        f"Ligne {i} du programme de la semaine 🎉 — sortie au musée" for i in range(70)
    )
    assert utf16_len("/annonce " + body) <= 4096
    await claire.send_command("/annonce", body, chat=admin_group)
    first, last = await admin_group.next_message(), await admin_group.next_message()
    shown = plain(first.text + "\n" + last.text)
    assert "Ligne 0 " in shown and "Ligne 69 " in shown  # nothing left out
    yes = _data(last, callbacks.STAFF_ANNOUNCE + ":yes")
    await claire.tap_data(last, yes[0])
    received = (await jean.next_message()).text
    while "Ligne 69 " not in received:  # in one message or split by the sender, never cut
        received += (await jean.next_message()).text
    assert "Ligne 0 " in received


async def test_a_closure_reason_too_long_is_refused_before_anything_is_closed(
    admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    await claire.send_command("/fermeture", "03/12/2026", "Grève " * 60, chat=admin_group)
    answer = (await admin_group.next_message()).text
    assert "200 au plus" in answer and "Rien n’a été fermé" in answer
    async with runtime.database.unit_of_work() as uow:
        assert await uow.repos.audit.entries(action="staff.close_day") == []


async def test_a_long_message_to_a_family_arrives_whole(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    body = "é" * 4060 + " FIN"  # the longest a command may carry; with its header, two messages
    await claire.send_command("/message", DUPONT, body, chat=admin_group)
    assert "Envoyé" in (await admin_group.next_message()).text
    received = "".join(m.text for m in [await jean.next_message(), await jean.next_message()])
    assert received.count("é") == 4060 and "FIN" in received


async def test_demandes_shows_day_and_service_and_accepts_a_familys_bookings_together(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    link,
    runtime: Runtime,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    request_ids = []
    for first_name in ("EMMA", "LUCAS"):
        async with runtime.database.unit_of_work() as uow:
            family = await uow.repos.families.get_by_number(DUPONT)
            child = next(
                c
                for c in await uow.repos.families.children(family.id)
                if c.first_name == first_name
            )
            alsh = await uow.repos.structure.service_by_code("alsh_mercredi")
        done = await bookings.act_on_day(
            runtime.database,
            101,
            DayAction.BOOK,
            child.id,
            alsh.id,
            dt.date(2026, 11, 25),
            structure=runtime.structure,
            tz=runtime.settings.tz,
            now=runtime.now(),
        )
        assert done.result.outcome == BookingOutcome.PENDING
        request_ids.append(done.result.request_id)
    await claire.send_command("/demandes", chat=admin_group)
    listing = await admin_group.next_message()
    while "en attente" not in listing.text:  # the cards came first
        listing = await admin_group.next_message()
    assert "mer. 25/11/2026" in listing.text and "ALSH" in listing.text
    ask = _data(listing, callbacks.STAFF_ACCEPT_FAMILY + ":ask:")
    assert len(ask) == 1
    await claire.tap_data(listing, ask[0])
    question = await admin_group.next_message()
    while "Accepter les" not in question.text:  # cards of the outbox may come in between
        question = await admin_group.next_message()
    assert "Accepter les 2 demandes de la famille JEAN DUPONT" in plain(question.text)
    await claire.tap_data(question, _data(question, callbacks.STAFF_ACCEPT_FAMILY + ":yes:")[0])

    async def accepted() -> bool:
        async with runtime.database.unit_of_work() as uow:
            statuses = [(await uow.repos.requests.get(r)).status for r in request_ids]
        return statuses == [RequestStatus.ACCEPTED] * len(request_ids)

    await wait_until(accepted)
    told = [await jean.next_message(), await jean.next_message()]
    assert all("acceptée" in m.text for m in told)  # the family told of each


async def test_garde_takes_a_name_and_says_which_modes_exist(
    admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    await claire.send_command("/garde", "DUPONT", "lucas", "bitcoin", chat=admin_group)
    answer = plain((await admin_group.next_message()).text)
    assert "mode inconnu : bitcoin — au choix : complète, impaire, paire, une date" in answer
    await claire.send_command("/garde", "DUPONT", "lucas", "paire", chat=admin_group)
    assert "semaines paires" in plain((await admin_group.next_message()).text)
