"""Requests reach the staff group as cards; staff accept or refuse them; the family is told."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.domain.model import RequestStatus
from bot.runtime import Runtime
from bot.sender import GROUP_RETRY_SECONDS
from bot.staff import ACTION_STAFF_REFUSED
from tests.conversations.conftest import DUPONT
from tests.conversations.staff.conftest import EVE, CafChangeType, plain, wait_until
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")


async def _linked_parents(botapi: BotApiStub, link) -> tuple[FakeUser, FakeUser]:  # type: ignore[no-untyped-def]
    jean, jeanne = botapi.user(101, "Jean"), botapi.user(102, "Jeanne")
    await link(jean)
    await link(jeanne)
    await jeanne.send_command("/langue")
    await jeanne.tap(await jeanne.next_message(), "🇬🇧 English")
    await jeanne.next_message()
    return jean, jeanne


async def _status(runtime: Runtime, request_id: int) -> RequestStatus:
    async with runtime.database.unit_of_work() as uow:
        return (await uow.repos.requests.get(request_id)).status


async def test_a_card_shows_the_request_and_accepting_applies_it_and_tells_every_parent(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,
    submit,
    caf_type: CafChangeType,  # type: ignore[no-untyped-def]
) -> None:
    jean, jeanne = await _linked_parents(botapi, link)
    request_id = await submit()

    card = await admin_group.next_message()
    text = plain(card.text)
    assert f"Demande n° {request_id}" in text and "Informations CAF" in text
    assert "JEAN DUPONT" in text and "1001001818331" in text
    assert "1234567 → 7654321" in text  # the current value beside the requested one
    assert card.button_labels == ["✅ Accepter", "❌ Refuser"]

    query = await claire.tap(card, "✅ Accepter")
    assert "acceptée" in (await botapi.wait_callback_answer(query))["text"].lower()
    edited = await admin_group.next_message()
    assert edited.message_id == card.message_id and edited.buttons == []
    assert "Acceptée par Claire Morel" in plain(edited.text)

    told_jean, told_jeanne = await jean.next_message(), await jeanne.next_message()
    assert "Votre demande a été acceptée" in told_jean.text and "7654321" in told_jean.text
    assert "Your request was accepted" in told_jeanne.text  # each parent in their own language
    assert caf_type.calls == [("accept", request_id)]
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        assert family.caf_number == "7654321"  # applied in the decision's transaction
    assert await _status(runtime, request_id) == RequestStatus.ACCEPTED
    assert all("Demande n°" not in m.text for m in jean.messages())  # no admin content to parents


async def test_refusing_asks_the_reason_then_tells_the_family_with_it(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,
    submit,
    caf_type: CafChangeType,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    request_id = await submit()
    card = await admin_group.next_message()

    await claire.tap(card, "❌ Refuser")
    prompt = await admin_group.next_message()
    assert (
        f"demande n° {request_id}" in prompt.text and prompt.reply_to_message_id == card.message_id
    )
    assert "Justificatif manquant ou illisible" in prompt.button_labels
    await claire.reply_to(prompt, "L'attestation CAF est illisible, merci de la renvoyer.")

    edited = await admin_group.next_message()
    assert edited.message_id == card.message_id and edited.buttons == []
    assert "Refusée par Claire Morel" in plain(edited.text)
    assert "Motif : L'attestation CAF est illisible" in plain(edited.text)
    assert all(
        m.message_id != prompt.message_id for m in admin_group.messages()
    )  # question removed
    told = await jean.next_message()
    assert (
        "Votre demande a été refusée" in told.text
        and "L'attestation CAF est illisible" in told.text
    )
    assert caf_type.calls == [("refuse", request_id)]
    async with runtime.database.unit_of_work() as uow:
        request = await uow.repos.requests.get(request_id)
    assert request.status == RequestStatus.REFUSED and request.decided_by_name == "Claire Morel"
    assert request.refusal_reason == "L'attestation CAF est illisible, merci de la renvoyer."


async def test_a_one_tap_reason_or_changing_ones_mind(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,
    submit,
    caf_type: CafChangeType,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    first, second = await submit(), await submit(caf_number="1111111")
    card_one, card_two = await admin_group.next_message(), await admin_group.next_message()

    await claire.tap(card_one, "❌ Refuser")
    prompt = await admin_group.next_message()
    await claire.tap(prompt, "↩️ Ne pas refuser")
    await jean.expect_silence(0.3)
    assert await _status(runtime, first) == RequestStatus.PENDING
    assert admin_group.messages()[-1].message_id != prompt.message_id

    await claire.tap(card_two, "❌ Refuser")
    prompt = await admin_group.next_message()
    await claire.tap(prompt, "Délai dépassé")
    edited = await admin_group.next_message()
    assert edited.message_id == card_two.message_id and "Motif : Délai dépassé" in plain(
        edited.text
    )
    assert "Délai dépassé" in (await jean.next_message()).text
    assert await _status(runtime, second) == RequestStatus.REFUSED


async def test_two_staff_deciding_at_once_decide_once(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    paul: FakeUser,
    runtime: Runtime,
    link,
    submit,
    caf_type: CafChangeType,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    request_id = await submit()
    card = await admin_group.next_message()

    first = await claire.tap(card, "✅ Accepter")
    second = await paul.tap(card, "✅ Accepter")  # pressed on the same card before it changed
    assert "acceptée" in (await botapi.wait_callback_answer(first))["text"].lower()
    late = await botapi.wait_callback_answer(second)
    assert "Déjà acceptée par Claire Morel" in late["text"] and late["show_alert"]

    assert "acceptée" in (await jean.next_message()).text
    await jean.expect_silence(0.5)  # told once
    assert caf_type.calls == [("accept", request_id)]
    async with runtime.database.unit_of_work() as uow:
        decisions = await uow.repos.audit.entries(action="request.decide")
    assert [d.actor_telegram_id for d in decisions] == [claire.id]


async def test_someone_outside_the_staff_is_refused_and_audited(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    eve: FakeUser,
    runtime: Runtime,
    link,
    submit,
    caf_type: CafChangeType,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    request_id = await submit()
    card = await admin_group.next_message()

    query = await eve.tap(card, "✅ Accepter")  # e.g. a former member with the group still open
    answer = await botapi.wait_callback_answer(query)
    assert "réservée au personnel" in answer["text"] and answer["show_alert"]
    for command in ("/demandes", "/annonce Fermeture exceptionnelle", "/famille 1001001818331"):
        await jean.send(command)
        assert "réservée au personnel" in (await jean.next_message()).text, command
    parents = botapi.group(-100999, "Parents de l'école")
    botapi.set_handler("leaveChat", lambda params: True)
    await eve.send_command("/effectifs", chat=parents)
    await parents.expect_silence(0.4)  # a group that is not the admin group gets no answer at all

    assert await _status(runtime, request_id) == RequestStatus.PENDING
    assert caf_type.calls == []
    async with runtime.database.unit_of_work() as uow:
        refusals = await uow.repos.audit.entries(action=ACTION_STAFF_REFUSED)
    assert [(r.actor_telegram_id, r.target) for r in refusals] == [
        (EVE, "staff.accept"),
        (101, "staff.pending_requests"),
        (101, "staff.announce"),
        (101, "staff.family"),
    ]
    assert all("Demande n°" not in m.text and "DUPONT" not in m.text for m in parents.messages())


async def test_in_another_group_even_staff_commands_get_no_answer_and_the_bot_leaves(
    botapi: BotApiStub, admin_group: FakeGroup, claire: FakeUser, runtime: Runtime
) -> None:
    left: list[object] = []
    botapi.set_handler("leaveChat", lambda params: left.append(params.get("chat_id")) or True)
    parents = botapi.group(-100999, "Parents de l'école")
    await claire.send_command("/famille", "1001001818331", chat=parents)
    await botapi.next_call("leaveChat", timeout=10)
    assert [int(str(chat_id)) for chat_id in left] == [parents.id]
    await parents.expect_silence(0.4)
    assert all("DUPONT" not in m.text for m in parents.messages())


async def test_an_attached_proof_comes_with_its_card(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    link,
    submit,
    caf_type: CafChangeType,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    proof = botapi.store_file(
        b"%PDF-1.4 attestation",
        kind="document",
        file_name="attestation.pdf",
        mime_type="application/pdf",
    )
    await submit(attachment=(proof.file_id, "document"))
    card = await admin_group.next_message()
    assert card.document is not None and card.document["file_id"] == proof.file_id
    assert "Justificatif joint" in card.text and card.button_labels == ["✅ Accepter", "❌ Refuser"]
    await claire.tap(card, "✅ Accepter")
    edited = await admin_group.next_message()
    assert (
        edited.message_id == card.message_id
        and "Acceptée par Claire" in edited.caption
        and edited.buttons == []
    )


async def test_pending_requests_are_listed_oldest_first_and_open_as_cards(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    clock,
    submit,
    caf_type: CafChangeType,  # type: ignore[no-untyped-def]
) -> None:
    older = await submit(caf_number="1000001")
    clock.now = clock.now.replace(hour=9)
    newer = await submit("1001001818332", caf_number="1000002")
    await admin_group.next_message(), await admin_group.next_message()  # their cards
    await claire.send_command("/demandes", chat=admin_group)
    listing = await admin_group.next_message()
    text = plain(listing.text)
    assert "2 demandes en attente" in text
    assert text.index(f"n° {older}") < text.index(f"n° {newer}") and "SOPHIE MARTIN" in text
    assert listing.button_labels == [f"📄 n° {older}", f"📄 n° {newer}"]
    await claire.tap(listing, f"📄 n° {newer}")
    card = await _next_card(admin_group, newer)

    async def points_to_the_new_card() -> bool:
        async with runtime.database.unit_of_work() as uow:
            return (await uow.repos.requests.get(newer)).admin_message_id == card.message_id

    await wait_until(points_to_the_new_card)


async def test_a_burst_of_requests_is_grouped_under_the_group_limit_and_nothing_is_dropped(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    submit,
    caf_type: CafChangeType,  # type: ignore[no-untyped-def]
) -> None:
    botapi.set_rate_limits(global_per_second=30, group_per_minute=20)  # Telegram's limits
    ids = [await submit(caf_number=f"{9000000 + i}", wait=False) for i in range(45)]

    async def all_shown() -> bool:
        async with runtime.database.unit_of_work() as uow:
            return all([(await uow.repos.requests.get(i)).admin_message_id for i in ids])

    await wait_until(all_shown, timeout=15)
    posted = admin_group.messages()
    assert botapi.flood_rejections == 0
    assert len(posted) <= 12  # under the ~20 a minute a bot may post in a group
    shown = " ".join(plain(m.text) for m in posted)
    assert all(f"n° {i}" in shown for i in ids)  # nothing dropped
    digest = next(m for m in posted if "nouvelles demandes" in m.text)
    assert len(digest.buttons) >= 1

    opened_id = ids[-1]
    await claire.tap(
        next(m for m in posted if f"📄 n° {opened_id}" in m.button_labels), f"📄 n° {opened_id}"
    )
    card = await _next_card(admin_group, opened_id)
    await claire.tap(card, "✅ Accepter")
    await asyncio.sleep(0)
    await wait_until(lambda: _is(runtime, opened_id, RequestStatus.ACCEPTED))


async def _next_card(group: FakeGroup, request_id: int):  # type: ignore[no-untyped-def]
    while True:
        message = await group.next_message()
        if f"Demande n° {request_id} " in message.text and message.button_labels == [
            "✅ Accepter",
            "❌ Refuser",
        ]:
            return message


async def _is(runtime: Runtime, request_id: int, status: RequestStatus) -> bool:
    return await _status(runtime, request_id) == status


@pytest.mark.parametrize("accept", [True, False])
async def test_reopening_a_card_leaves_one_live_card_and_it_is_decided_once(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    paul: FakeUser,
    runtime: Runtime,
    link,
    submit,
    caf_type: CafChangeType,
    accept: bool,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    request_id = await submit()
    first_card = await admin_group.next_message()
    await claire.send_command("/demandes", chat=admin_group)
    await paul.tap(await admin_group.next_message(), f"📄 n° {request_id}")
    events = [await admin_group.next_message(), await admin_group.next_message()]
    second_card = next(m for m in events if not m.edited)
    stripped = next(m for m in events if m.edited)
    assert stripped.message_id == first_card.message_id and stripped.buttons == []
    assert second_card.button_labels == ["✅ Accepter", "❌ Refuser"]

    await claire.tap(second_card, "✅ Accepter" if accept else "❌ Refuser")
    if not accept:
        await claire.tap(await admin_group.next_message(), "Informations incomplètes")
    decided = await admin_group.next_message()
    assert decided.message_id == second_card.message_id and decided.buttons == []
    assert ("Acceptée" if accept else "Motif : Informations incomplètes") in plain(decided.text)
    await jean.next_message()
    await jean.expect_silence(0.3)
    assert caf_type.calls == [("accept" if accept else "refuse", request_id)]


async def test_a_request_that_cannot_be_applied_stays_pending(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    submit,
    caf_type: CafChangeType,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    async def impossible(uow, request, now):  # type: ignore[no-untyped-def]
        raise RuntimeError("the record changed meanwhile")

    monkeypatch.setattr(caf_type, "accept", impossible)
    request_id = await submit()
    card = await admin_group.next_message()
    query = await claire.tap(card, "✅ Accepter")
    assert "n’a pas pu être appliquée" in (await botapi.wait_callback_answer(query))["text"]
    assert await _status(runtime, request_id) == RequestStatus.PENDING
    assert admin_group.messages()[-1].button_labels == ["✅ Accepter", "❌ Refuser"]


async def test_a_new_member_of_the_group_is_staff_at_once(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    eve: FakeUser,
    runtime: Runtime,
    submit,
    caf_type: CafChangeType,  # type: ignore[no-untyped-def]
) -> None:
    request_id = await submit()
    card = await admin_group.next_message()
    refused = await eve.tap(card, "✅ Accepter")
    assert "réservée au personnel" in (await botapi.wait_callback_answer(refused))["text"]

    botapi.members[admin_group.id].append(eve.id)  # Eve joins the staff's group
    botapi.enqueue_update(
        {
            "chat_member": {
                "chat": {"id": admin_group.id, "type": "supergroup", "title": admin_group.title},
                "from": {"id": 901, "is_bot": False, "first_name": "Claire"},
                "date": 1795460000,
                "old_chat_member": {"status": "left", "user": eve.as_user()},
                "new_chat_member": {"status": "member", "user": eve.as_user()},
            }
        }
    )
    await botapi.wait_for_delivery()
    accepted = await eve.tap(card, "✅ Accepter")  # without waiting for the cache to expire
    assert "acceptée" in (await botapi.wait_callback_answer(accepted))["text"]
    assert await _status(runtime, request_id) == RequestStatus.ACCEPTED


async def test_requests_wait_while_the_bot_cannot_post_in_the_group(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    runtime: Runtime,
    clock,
    submit,
    caf_type: CafChangeType,  # type: ignore[no-untyped-def]
) -> None:
    admin_group.kick_bot()
    first = await submit()
    await admin_group.expect_silence(0.3)
    async with runtime.database.unit_of_work() as uow:
        assert (await uow.repos.requests.get(first)).admin_message_id is None  # still queued
    second = await submit(caf_number="2222222")

    admin_group.state.bot_kicked = False  # the bot is added back
    clock.now += dt.timedelta(seconds=GROUP_RETRY_SECONDS)  # when the sender tries the group again
    digest = await admin_group.next_message(timeout=10)
    assert "2 nouvelles demandes" in digest.text
    assert digest.button_labels == [f"📄 n° {first}", f"📄 n° {second}"]
