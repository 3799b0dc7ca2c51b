"""The outbox sender, through the real Application and the Bot API stand-in.

What a service writes in its transaction reaches the chat once; a blocked account is marked
unreachable and not retried; a network failure is retried later; a row past its expiry is
dropped; several cards waiting for the admin group go out as one summary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import get_sender
from bot.outgoing import Attachment, Outgoing, template
from bot.runtime import Runtime
from bot.services.outbox import tell_account, tell_staff
from storage.db import UnitOfWork
from storage.outbox_repository import EXPIRED, SENT, UNREACHABLE
from tests.support.botapi import BotApiStub

SENT_HOOK: list[tuple[dict, list[int]]] = []


@template("test.hello", on_sent=lambda uow, params, ids: _remember(params, ids))
async def _hello(runtime: Runtime, params: dict) -> Outgoing:
    return Outgoing(
        f"Bonjour {params['name']}",
        InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="noop")]]),
    )


async def _remember(params: dict, ids: Sequence[int]) -> None:
    SENT_HOOK.append((params, list(ids)))


async def _card_digest(runtime: Runtime, many: Sequence[dict]) -> Outgoing:
    return Outgoing("Résumé : " + ", ".join(str(p["n"]) for p in many))


async def _noop_digest_hook(uow: UnitOfWork, many: Sequence[dict], message_id: int) -> None:
    SENT_HOOK.append(({"digest": [p["n"] for p in many]}, [message_id]))


@template("test.card", digest=_card_digest, on_digest_sent=_noop_digest_hook)
async def _card(runtime: Runtime, params: dict) -> Outgoing:
    return Outgoing(f"Carte {params['n']}")


@template("test.photo")
async def _photo(runtime: Runtime, params: dict) -> Outgoing:
    return Outgoing(
        "Justificatif",
        attachment=Attachment("photo-id", "photo"),
        fallback=Outgoing("Justificatif (pièce illisible)"),
    )


async def _write(runtime: Runtime, chat_id: int, name: str, **kwargs: object) -> None:
    async with runtime.database.transaction() as uow:
        await tell_account(uow, chat_id, "test.hello", {"name": name}, now=runtime.now(), **kwargs)  # type: ignore[arg-type]


async def _statuses(runtime: Runtime, name: str) -> list[str]:
    async with runtime.database.unit_of_work() as uow:
        return [row.status for row in await uow.repos.outbox.of_template(name)]


async def test_a_message_written_with_a_change_reaches_the_chat_once(
    runtime: Runtime, bot, botapi: BotApiStub
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(7101, "Jean")
    SENT_HOOK.clear()
    await _write(runtime, jean.id, "Jean")
    message = await jean.next_message()
    assert message.text == "Bonjour Jean"
    assert message.buttons[0][0]["callback_data"] == "noop"
    await _wait_for(runtime, "test.hello", SENT)
    assert [({"name": "Jean"}, [message.message_id])] == SENT_HOOK
    await jean.expect_silence(0.5)


async def test_a_blocked_account_is_marked_unreachable_and_not_retried(
    runtime: Runtime, bot, botapi: BotApiStub
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(7102, "Jean")
    botapi.block(jean.id)
    await _write(runtime, jean.id, "Jean")
    await _wait_for(runtime, "test.hello", UNREACHABLE)
    assert len(botapi.calls("sendMessage", chat_id=jean.id)) == 0


async def test_a_network_failure_is_retried_later(
    runtime: Runtime, bot, botapi: BotApiStub, clock
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(7103, "Jean")
    botapi.fail_next("sendMessage", 502, "Bad Gateway")
    await _write(runtime, jean.id, "Jean")
    await _wait_for(runtime, "test.hello", "pending", attempts=1)
    clock.now += dt.timedelta(seconds=5)  # past the first back-off
    get_sender(bot).wake()  # type: ignore[union-attr]
    assert (await jean.next_message()).text == "Bonjour Jean"
    await _wait_for(runtime, "test.hello", SENT)


async def test_a_file_telegram_refuses_is_replaced_by_its_fallback(
    runtime: Runtime, bot, botapi: BotApiStub
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(7105, "Jean")
    botapi.fail_next("sendPhoto", 400, "Bad Request: wrong file identifier/HTTP URL specified")
    async with runtime.database.transaction() as uow:
        await tell_account(uow, jean.id, "test.photo", now=runtime.now())
    assert (await jean.next_message()).text == "Justificatif (pièce illisible)"
    await _wait_for(runtime, "test.photo", SENT)


async def test_a_message_past_its_expiry_is_dropped(
    runtime: Runtime, bot, botapi: BotApiStub
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(7104, "Jean")
    await _write(runtime, jean.id, "Jean", expires_at=runtime.now() - dt.timedelta(minutes=1))
    await _wait_for(runtime, "test.hello", EXPIRED)
    await jean.expect_silence(0.3)


async def test_cards_waiting_together_go_to_the_group_as_one_summary(
    runtime: Runtime, botapi: BotApiStub
) -> None:
    from tests.conversations.conftest import start_application, stop_application

    group = botapi.group(-100777, "Équipe")
    runtime.settings.admin_chat_id = group.id
    async with runtime.database.transaction() as uow:
        for n in range(5):
            await tell_staff(uow, "test.card", {"n": n}, now=runtime.now())
    application = await start_application(runtime)
    try:
        summary = await botapi.next_message(group.id)
        assert summary.text == "Résumé : 0, 1, 2, 3, 4"
        await botapi.expect_silence(group.id, 0.5)
        await _wait_for(runtime, "test.card", SENT)
        assert set(await _statuses(runtime, "test.card")) == {SENT}
    finally:
        await stop_application(application)


async def _wait_for(
    runtime: Runtime, name: str, status: str, *, attempts: int | None = None
) -> None:
    import asyncio

    for _ in range(200):
        async with runtime.database.unit_of_work() as uow:
            rows = await uow.repos.outbox.of_template(name)
        if (
            rows
            and rows[-1].status == status
            and (attempts is None or rows[-1].attempts == attempts)
        ):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name} never reached {status}: {[(r.status, r.attempts) for r in rows]}")


async def test_the_sender_keeps_sending_after_the_database_failed_while_it_took_its_lock(
    runtime: Runtime, bot, botapi: BotApiStub
) -> None:  # type: ignore[no-untyped-def]
    jean = botapi.user(7104, "Jean")
    sender = get_sender(bot)
    assert sender is not None
    lock = sender._lock
    real_try_acquire = lock.try_acquire
    failures = [ConnectionError("the database restarts")]

    async def failing_once() -> bool:
        if failures:
            raise failures.pop()
        return await real_try_acquire()

    lock.try_acquire = failing_once  # type: ignore[method-assign]
    sender.wake()
    await _write(runtime, jean.id, "Jean")
    assert (await jean.next_message()).text == "Bonjour Jean"
    assert not failures
