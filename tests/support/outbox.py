"""Test helpers around the outbox: wait until queued messages were delivered, and read how."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot import reminder_job
from bot.runtime import Runtime
from bot.services.reminders import ReminderSettings
from storage.models import OutboxMessage
from storage.outbox_repository import FINAL_STATUSES, SENT, UNREACHABLE


@dataclass
class Delivered:
    """How the messages of one reminder tick ended, once the sender is done with them."""

    due: int
    rows: list[OutboxMessage] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(1 for row in self.rows if row.status == SENT)

    @property
    def unreachable(self) -> list[int]:
        return [
            row.chat_id
            for row in self.rows
            if row.status == UNREACHABLE and row.chat_id is not None
        ]

    @property
    def failed(self) -> int:
        return sum(1 for row in self.rows if row.status not in (SENT, UNREACHABLE))


async def wait_until_final(
    runtime: Runtime, keys: Sequence[str], timeout: float = 10.0
) -> list[OutboxMessage]:
    """The rows under `keys`, once each has ended (sent, unreachable…); fails after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with runtime.database.unit_of_work() as uow:
            rows = await uow.repos.outbox.with_keys(keys)
        if all(row.status in FINAL_STATUSES for row in rows):
            return rows
        if loop.time() > deadline:
            raise AssertionError(
                f"outbox rows not delivered within {timeout}s: {[(r.id, r.status) for r in rows]}"
            )
        await asyncio.sleep(0.02)


async def deliver_reminders(
    runtime: Runtime, settings: ReminderSettings = ReminderSettings()
) -> Delivered:
    """Run one reminder tick and wait until the running bot's sender has delivered what it queued."""
    queued = await reminder_job.queue_reminders(runtime, settings)
    return Delivered(queued.due, await wait_until_final(runtime, queued.keys))
