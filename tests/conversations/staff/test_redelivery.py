"""Telegram delivers an update again when the bot stopped before confirming it: a second
delivery of the same update id changes nothing (the id is recorded with the update's effect)."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from telegram.ext import Application

from bot.runtime import Runtime
from bot.services.inbox import STRUCTURE_MESSAGE_TEMPLATE
from tests.conversations.conftest import DUPONT, start_application, stop_application
from tests.conversations.staff.conftest import CafChangeType, plain, wait_until
from tests.conversations.test_redelivered_taps import effects
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser

pytestmark = pytest.mark.usefixtures("bot")


@contextmanager
def delivered_twice(botapi: BotApiStub) -> Iterator[None]:
    """Every update the test's users send is queued twice with the same update_id."""
    original = botapi.enqueue_update

    def twice(payload):  # type: ignore[no-untyped-def]
        update_id = original(payload)
        original({**payload, "update_id": update_id})
        return update_id

    botapi.enqueue_update = twice  # type: ignore[method-assign]
    try:
        yield
    finally:
        botapi.enqueue_update = original  # type: ignore[method-assign]


async def _structure_messages(runtime: Runtime) -> int:
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        return len(
            await uow.repos.messages.of_family(family.id, direction=None, deleted=False, limit=50)
        )


async def test_a_staff_reply_delivered_twice_reaches_the_family_once(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    with delivered_twice(botapi):
        await claire.send_command(
            "/message", DUPONT, "Votre dossier est complet.", chat=admin_group
        )
        await botapi.wait_for_delivery()
    assert "Envoyé" in (await admin_group.next_message()).text
    assert "dossier est complet" in (await jean.next_message()).text
    await wait_until(lambda: _no_pending(runtime))
    await jean.expect_silence(0.5)
    await admin_group.expect_silence(0.1)
    assert sum("dossier est complet" in m.text for m in jean.messages()) == 1
    assert await _structure_messages(runtime) == 1


async def _no_pending(runtime: Runtime) -> bool:
    async with runtime.database.unit_of_work() as uow:
        rows = await uow.repos.outbox.of_template(STRUCTURE_MESSAGE_TEMPLATE)
    return all(row.status != "pending" for row in rows)


async def test_editing_a_message_to_a_family_sends_nothing_again(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    sent = await claire.send_command("/message", DUPONT, "Réunion jeudi.", chat=admin_group)
    assert "Envoyé" in (await admin_group.next_message()).text
    assert "Réunion jeudi" in (await jean.next_message()).text
    edited = {
        **sent.data,
        "text": f"/message {DUPONT} Réunion vendredi.",
        "edit_date": sent.data["date"] + 30,
    }
    botapi.enqueue_update({"edited_message": edited})  # the decision: an edit does nothing
    await botapi.wait_for_delivery()
    await jean.expect_silence(0.8)
    await admin_group.expect_silence(0.1)
    assert await _structure_messages(runtime) == 1


async def test_a_message_of_2000_emoji_reaches_the_family_whole_within_telegrams_limits(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    body = "🎉" * 2000  # 2,000 characters, 4,000 UTF-16 units
    await claire.send_command("/message", DUPONT, body, chat=admin_group)
    assert "Envoyé" in (await admin_group.next_message(timeout=10)).text
    await wait_until(lambda: _no_pending(runtime))
    received = "".join(m.text for m in jean.messages())
    assert received.count("🎉") == 2000
    assert [r for r in botapi.rejections if "too long" in r.description] == []


async def test_a_parents_message_of_1700_emoji_reaches_the_staff_whole_within_telegrams_limits(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    runtime: Runtime,
    link,  # type: ignore[no-untyped-def]
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_command("/accueil")
    home = await jean.next_message()
    await jean.tap(home, "✉️ Boîte de réception")
    inbox = await jean.next_message()
    await jean.tap(inbox, "✍️ Écrire à la structure")
    await jean.next_message()
    await jean.send("🎉" * 1700)  # 3,400 UTF-16 units: within what a parent may write
    assert "a été envoyé à la structure" in (await jean.next_message()).text
    await admin_group.next_message(timeout=10)
    await botapi.wait_for_delivery()
    relayed = "".join(m.text for m in admin_group.messages())
    assert relayed.count("🎉") == 1700
    assert [r for r in botapi.rejections if "too long" in r.description] == []


async def test_accepting_a_card_delivered_again_after_a_restart_tells_the_family_once(
    botapi: BotApiStub,
    admin_group: FakeGroup,
    claire: FakeUser,
    runtime: Runtime,
    bot: Application,  # type: ignore[type-arg]
    link: Callable[[FakeUser], Awaitable[None]],
    submit: Callable[[], Awaitable[int]],
    caf_type: CafChangeType,
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    await submit()
    card = await admin_group.next_message()
    taps: list[dict[str, Any]] = []
    enqueue = botapi.enqueue_update

    def remember(payload):  # type: ignore[no-untyped-def]
        update_id = enqueue(payload)
        taps.append({"update_id": update_id, **copy.deepcopy(payload)})
        return update_id

    botapi.enqueue_update = remember  # type: ignore[method-assign]
    try:
        await claire.tap(card, "✅ Accepter")
    finally:
        botapi.enqueue_update = enqueue  # type: ignore[method-assign]
    assert "Acceptée par" in plain((await admin_group.next_message()).text)  # the card, stale now
    assert "Votre demande a été acceptée" in (await jean.next_message()).text
    await jean.expect_silence(0.3)
    before, seen = await effects(runtime), len(admin_group.messages())

    await stop_application(bot)
    botapi.redeliver(taps[0])  # Telegram never heard the tap was handled
    restarted = await start_application(runtime)
    try:
        await botapi.wait_for_delivery()
        await admin_group.expect_silence(1.0)
        await jean.expect_silence(0.2)
    finally:
        await stop_application(restarted)
    assert len(admin_group.messages()) == seen and len(caf_type.calls) == 1
    assert not [m for m in admin_group.messages() if "Désolé" in (m.text or "")]
    assert await effects(runtime) == before
