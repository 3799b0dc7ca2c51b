"""A person who blocked the bot: the error handler never writes to the chat that answered 403,
logs it once without a traceback, and notes the account unreachable."""

from __future__ import annotations

import asyncio
import logging

from bot.runtime import Runtime
from tests.support.botapi import BotApiStub


async def test_a_tap_from_someone_who_blocked_the_bot_is_not_answered_twice_and_is_noted(
    botapi: BotApiStub,
    link,
    runtime: Runtime,
    caplog,  # type: ignore[no-untyped-def]
) -> None:
    caplog.set_level(logging.INFO)
    jean = botapi.user(101, "Jean")
    await link(jean)
    await jean.send_command("/accueil")
    home = await jean.next_message()
    botapi.block(jean.id)
    before = len(botapi.rejections)
    await jean.tap(home, home.button_labels[0])  # delivered after he blocked the bot
    await botapi.wait_for_delivery()
    for _ in range(100):  # wait for the handler's attempt
        if any(r.error_code == 403 for r in botapi.rejections[before:]):
            break
        await asyncio.sleep(0.05)
    await jean.expect_silence(0.5)
    refused = [r for r in botapi.rejections[before:] if r.error_code == 403]
    assert len(refused) == 1, [
        r.method for r in refused
    ]  # the handler's answer, and no apology after it
    assert "Traceback" not in caplog.text and "error on update" not in caplog.text
    assert "cannot be reached" in caplog.text
    async with runtime.database.unit_of_work() as uow:
        user = await uow.repos.telegram.get_user(jean.id)
    assert user is not None and user.unreachable_since is not None
