"""A tap Telegram delivers again after a restart (the bot stopped before confirming its update)
lands on a button that has become stale: it is ignored — no "Désolé, une erreur est survenue",
no second booking, request or message, nothing sent at all."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from telegram.ext import Application

from bot.runtime import Runtime
from storage.models import AuditEntry, DayEntry, DayEntryEvent, Message, OutboxMessage, Request
from tests.conversations.conftest import DUPONT, start_application, stop_application
from tests.support.botapi import BotApiStub, ChatMessage, FakeUser

COUNTED = (DayEntry, DayEntryEvent, Request, Message, OutboxMessage, AuditEntry)


async def effects(runtime: Runtime) -> dict[str, int]:
    """How many rows every table an action writes holds."""
    async with runtime.database.unit_of_work() as uow:
        return {
            model.__tablename__: (
                await uow.session.execute(select(func.count()).select_from(model))
            ).scalar_one()
            for model in COUNTED
        }


def _data(message: ChatMessage, prefix: str) -> str:
    return str(
        next(
            b["callback_data"]
            for row in message.buttons
            for b in row
            if b.get("callback_data", "").startswith(prefix)
        )
    )


async def _book_a_day(jean: FakeUser, runtime: Runtime) -> ChatMessage:
    """Jean opens LUCAS's Thursday 3 December and taps "✅ Réserver : Restauration scolaire"."""
    async with runtime.database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(DUPONT)
        assert family is not None
        lucas = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == "LUCAS"
        )
    home = jean.last_message()
    assert home is not None
    await jean.tap_data(home, f"pd:{lucas.id}:20261203")
    return await jean.next_message()


async def _tap_book(jean: FakeUser, day: ChatMessage) -> None:
    await jean.tap_data(day, _data(day, "pa:b:"))
    assert "✅ Réservé." in (await jean.next_message()).text


async def _open_contact_form(jean: FakeUser, runtime: Runtime) -> ChatMessage:
    """Jean asks to change his mobile number and reaches "Vérifiez votre demande"."""
    home = jean.last_message()
    assert home is not None
    await jean.tap_data(home, "fs:responsable:0")
    form = await jean.next_message()
    await jean.tap(form, "Mobile")
    await jean.next_message()
    await jean.send("07 81 22 33 44")
    form = await jean.next_message()
    await jean.tap(form, "📨 Envoyer la demande")
    return await jean.next_message()


async def _tap_send(jean: FakeUser, check: ChatMessage) -> None:
    await jean.tap_data(check, _data(check, "fk:"))
    assert "transmise à la structure" in (await jean.next_message()).text


Link = Callable[[FakeUser], Awaitable[None]]
Prepare = Callable[[FakeUser, Runtime], Awaitable[ChatMessage]]
Tap = Callable[[FakeUser, ChatMessage], Awaitable[None]]


@pytest.mark.parametrize(
    ("prepare", "tap"),
    [(_book_a_day, _tap_book), (_open_contact_form, _tap_send)],
    ids=["a booking", "a request sent"],
)
async def test_a_tap_delivered_again_after_a_restart_is_ignored(
    botapi: BotApiStub,
    link: Link,
    runtime: Runtime,
    bot: Application,  # type: ignore[type-arg]
    prepare: Prepare,
    tap: Tap,
) -> None:
    jean = botapi.user(101, "Jean")
    await link(jean)
    screen = await prepare(jean, runtime)

    taps: list[dict[str, Any]] = []
    enqueue = botapi.enqueue_update

    def remember(payload):  # type: ignore[no-untyped-def]
        update_id = enqueue(payload)
        taps.append({"update_id": update_id, **copy.deepcopy(payload)})
        return update_id

    botapi.enqueue_update = remember  # type: ignore[method-assign]
    try:
        await tap(jean, screen)  # acted on: the button's message now shows the new state
    finally:
        botapi.enqueue_update = enqueue  # type: ignore[method-assign]
    [update] = taps
    await botapi.wait_for_delivery()
    await jean.expect_silence(0.3)
    before, seen = await effects(runtime), len(jean.messages())

    await stop_application(bot)  # stopped before Telegram heard the update was handled …
    botapi.redeliver(update)  # … so the next getUpdates returns it again
    restarted = await start_application(runtime)
    try:
        await botapi.wait_for_delivery()
        await jean.expect_silence(1.0)
    finally:
        await stop_application(restarted)
    assert len(jean.messages()) == seen
    assert not [m for m in jean.messages() if "Désolé" in (m.text or "")]
    assert await effects(runtime) == before
