"""Two bot processes on one database: each reminder is queued once and sent once (SQLite and
PostgreSQL).

Both processes tick at the same instant: the reminder log's unique key lets one of them queue
each reminder. Both run an outbox sender: on PostgreSQL the advisory lock lets one of them
work; on either engine a row claimed by one sender is never claimed by the other.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from telegram.ext import ExtBot

from bot import reminder_job
from bot.domain.reminders import ReminderKind
from bot.ratelimit import TelegramRateLimiter
from bot.runtime import Runtime
from bot.sender import OutboxSender
from bot.services.reminders import ReminderSettings
from bot.settings import load_settings
from bot.structure import Structure
from storage.db import Database
from storage.models import TelegramLink
from tests.support.botapi import DEFAULT_TOKEN, BotApiStub
from tests.support.outbox import wait_until_final

PARIS = ZoneInfo("Europe/Paris")
FRIDAY_11 = dt.datetime(2026, 11, 27, 11, 0, tzinfo=PARIS)


async def test_two_processes_send_each_reminder_once(
    any_demo_database: Database, structure: Structure
) -> None:
    cantine_only = dataclasses.replace(
        structure, services=tuple(s for s in structure.services if s.code == "cantine")
    )
    async with any_demo_database.unit_of_work() as uow:
        families = [
            await uow.repos.families.get_by_number(n) for n in ("1001001818331", "1001001818332")
        ]
        for user_id in range(501, 521):
            await uow.repos.telegram.get_or_create_user(user_id)
            uow.repos.telegram.add_link(
                TelegramLink(
                    family_id=families[user_id % 2].id,
                    telegram_user_id=user_id,
                    linked_at=FRIDAY_11,
                    linked_by="invite",
                )
            )
        await uow.commit()
    settings = load_settings(
        _env_file=None, telegram_bot_token=DEFAULT_TOKEN, database_url=any_demo_database.url
    )
    only_booking = ReminderSettings(kinds=frozenset({ReminderKind.BOOKING}))
    async with BotApiStub() as stub:
        for user_id in range(501, 521):
            stub.user(user_id, "Parent")
        processes = [
            Runtime(
                settings=settings,
                database=Database(any_demo_database.url),
                structure=cantine_only,
                clock=lambda: FRIDAY_11,
            )
            for _ in range(2)
        ]
        bot = ExtBot(
            DEFAULT_TOKEN,
            base_url=stub.base_url,
            base_file_url=stub.base_file_url,
            rate_limiter=TelegramRateLimiter(),
        )
        async with bot:
            senders = [OutboxSender(p, bot, None, poll_seconds=0.05) for p in processes]
            for sender in senders:
                await sender.start()
            queued = await asyncio.gather(
                *(reminder_job.queue_reminders(p, only_booking) for p in processes)
            )
            rows = await wait_until_final(processes[0], [key for q in queued for key in q.keys])
            for sender in senders:
                await sender.stop()
        for process in processes:
            await process.database.dispose()
        sent = stub.calls("sendMessage")
    assert len(rows) == 20
    assert sorted(c.params["chat_id"] for c in sent) == list(range(501, 521))
