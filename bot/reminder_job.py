"""The reminder job: every tick, queue what is due; the outbox sender delivers it.

Runs on APScheduler through python-telegram-bot's job queue. A tick computes the reminders
due now from the database (`bot.services.reminders`), records each once in the reminder log
and writes its message into the outbox, all in one transaction; `bot.sender` then sends them
within Telegram's limits, retries a failed send until the reminder's cutoff has passed, and
skips accounts that blocked the bot. The template below renders a reminder, in the
recipient's language, when it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bot import metrics
from bot.domain.reminders import ReminderKind
from bot.outgoing import Outgoing, template
from bot.runtime import Runtime, get_runtime
from bot.scheduling import schedule_every_interval
from bot.services.outbox import revive
from bot.services.reminders import (
    REMINDER_TEMPLATE,
    UNDELIVERED_TEMPLATE,
    QueuedReminders,
    ReminderSettings,
    headcounts_of,
    mark_reminder_sent,
    queue_due_reminders,
    reminder_from,
)
from conversations.reminders import (
    reminder_keyboard,
    render_reminder,
    render_undelivered,
)

logger = logging.getLogger(__name__)


async def send_due_reminders(context: Any) -> None:
    """The job callback."""
    queued = await queue_reminders(get_runtime(context))
    if queued.keys:
        logger.info("reminders: %s due, %s queued", queued.due, len(queued.keys))


async def queue_reminders(
    runtime: Runtime, settings: ReminderSettings = ReminderSettings()
) -> QueuedReminders:
    """Queue every reminder due now (each once, whatever the number of processes ticking)."""
    queued = await queue_due_reminders(
        runtime.database,
        runtime.structure,
        runtime.settings.tz,
        runtime.now(),
        admin_chat_id=runtime.settings.admin_chat_id,
        settings=settings,
    )
    metrics.REMINDERS_DUE.inc(queued.due)
    metrics.REMINDERS_QUEUED.inc(len(queued.keys))
    return queued


async def _reminder_sent(uow: Any, params: dict[str, Any], message_ids: Sequence[int]) -> None:
    """Telegram took the reminder: log it as sent, and count it."""
    await mark_reminder_sent(uow, params, message_ids)
    metrics.REMINDERS_SENT.inc()


@template(REMINDER_TEMPLATE, on_sent=_reminder_sent)
async def _render(runtime: Runtime, params: dict[str, Any]) -> Outgoing:
    reminder = reminder_from(params)
    headcounts = (
        await headcounts_of(runtime.database, reminder.details["days"])
        if reminder.kind == ReminderKind.HEADCOUNT
        else None
    )
    return Outgoing(render_reminder(reminder, runtime, headcounts), reminder_keyboard(reminder))


@template(UNDELIVERED_TEMPLATE)
async def _render_undelivered(runtime: Runtime, params: dict[str, Any]) -> Outgoing:
    return Outgoing(
        render_undelivered(int(params["count"]), revive(params["cutoff"]), runtime), None
    )


def schedule_reminders(application: Any, runtime: Runtime) -> None:
    """Register the reminder job."""
    schedule_every_interval(application, runtime, send_due_reminders, name="reminders", first=10)
