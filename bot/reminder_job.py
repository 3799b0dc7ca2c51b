"""The reminder job: every tick, send what is due, once, within Telegram's limits.

Runs on APScheduler through python-telegram-bot's job queue. One process sends at a time:
on PostgreSQL a session advisory lock decides which; on any engine the reminder log's unique
key makes a reminder claimed by one sender only. Reminders are claimed (committed) before
they are sent and marked sent after, a batch at a time: a process killed (SIGKILL) between the
two leaves that batch's unsent reminders "in doubt" and they are not sent again (never twice);
a stop request (SIGTERM) lets the batch finish. 429s are waited out by the rate limiter; network errors are
retried with backoff; an account that blocked the bot is marked unreachable and skipped.
Sends are paced under SEND_RATE_PER_SECOND over any one-second window, so 429s stay rare.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.domain.reminders import ReminderKind
from bot.i18n import normalize_language, use_language
from bot.runtime import Runtime, get_runtime
from bot.scheduling import schedule_every_interval
from bot.services.reminders import Reminder, ReminderSettings, claim, due_reminders, mark_sent
from bot.services.staff_day import headcount
from conversations.reminders import render_reminder, reminder_keyboard
from conversations.staff.outbox import get_outbox

logger = logging.getLogger(__name__)

LOCK_KEY = 0x5046_5245_4D49  # "PFREMI": the advisory lock of the reminder sender
CONCURRENCY = 16
# Pace a little under the allowed rate: Telegram counts arrivals, we count departures.
PACING_MARGIN = 0.95
BATCH = 100
NETWORK_RETRIES = 3


@dataclass
class FanOutReport:
    """What one run did."""

    due: int = 0
    sent: int = 0
    skipped: int = 0  # claimed by someone else meanwhile
    unreachable: list[int] = field(default_factory=list)
    failed: int = 0
    stopped_early: bool = False


class SmoothPacer:
    """Evenly spaced sends, one every 1/rate seconds, never a burst: waiters go one at a time,
    and each next slot counts from the moment the previous send actually left. (Bursts arrive
    clumped and trip Telegram's flood control even under the average rate; so would a backlog
    released at once after the event loop was busy.)"""

    def __init__(self, rate: float, clock: Any = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when this send may leave."""
        async with self._lock:
            delay = self._next - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = self._clock() + self.interval


class SenderLock:
    """Only one process sends reminders: a PostgreSQL advisory lock (always granted on SQLite)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._connection: Any = None

    async def __aenter__(self) -> bool:
        if self.runtime.database.backend != "postgresql":
            return True
        self._connection = await self.runtime.database.engine.connect()
        got = (await self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})).scalar()
        await self._connection.commit()
        return bool(got)

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            await self._connection.commit()
            await self._connection.close()


async def send_due_reminders(context: Any) -> None:
    """The job callback."""
    runtime = get_runtime(context)
    report = await run_reminders(context.bot, runtime, keep_going=lambda: context.application.running)
    if report.due:
        logger.info(
            "reminders: %s due, %s sent, %s skipped, %s unreachable, %s failed",
            report.due, report.sent, report.skipped, len(report.unreachable), report.failed,
        )


async def run_reminders(bot: Any, runtime: Runtime, *, keep_going: Any = lambda: True, settings: ReminderSettings = ReminderSettings()) -> FanOutReport:
    """Compute what is due now and send it (if this process holds the sender lock)."""
    async with SenderLock(runtime) as holder:
        if not holder:
            return FanOutReport()
        async with runtime.database.unit_of_work() as uow:
            reminders = await due_reminders(
                uow, runtime.structure, runtime.settings.tz, runtime.now(), admin_chat_id=runtime.settings.admin_chat_id, settings=settings
            )
        return await deliver(bot, runtime, reminders, keep_going=keep_going)


async def deliver(bot: Any, runtime: Runtime, reminders: Sequence[Reminder], *, keep_going: Any = lambda: True) -> FanOutReport:
    """Send each reminder once, batch by batch: claim a batch (one commit), send it a few at a
    time (the rate limiter paces them), mark what was sent (one commit). Stopping between
    batches leaves nothing in doubt."""
    report = FanOutReport(due=len(reminders))
    pacer = SmoothPacer(runtime.settings.send_rate_per_second * PACING_MARGIN)
    for start in range(0, len(reminders), BATCH):
        if not keep_going():
            report.stopped_early = True
            break
        await _deliver_batch(bot, runtime, reminders[start : start + BATCH], report, pacer)
    if report.unreachable:
        async with runtime.database.unit_of_work() as uow:
            await uow.repos.telegram.mark_unreachable(report.unreachable, runtime.now())
            await uow.commit()
    return report


async def _deliver_batch(bot: Any, runtime: Runtime, batch: Sequence[Reminder], report: FanOutReport, pacer: SmoothPacer) -> None:
    claimed: list[tuple[int, Reminder, list[Any] | None]] = []
    async with runtime.database.unit_of_work() as uow:
        got = await claim(uow, batch, runtime.now())
        for log_id, reminder in got:
            headcounts = [await headcount(uow, day) for day in reminder.details["days"]] if reminder.kind == ReminderKind.HEADCOUNT else None
            claimed.append((log_id, reminder, headcounts))
        await uow.commit()
    report.skipped += len(batch) - len(got)
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(reminder: Reminder, headcounts: list[Any] | None) -> bool:
        async with semaphore:
            await pacer.wait()
            return await _send_one(bot, runtime, reminder, headcounts, report)

    results = await asyncio.gather(*(one(reminder, headcounts) for _log_id, reminder, headcounts in claimed))
    sent = [log_id for (log_id, _reminder, _h), ok in zip(claimed, results) if ok]
    if sent:
        async with runtime.database.unit_of_work() as uow:
            await mark_sent(uow, sent, runtime.now())
            await uow.commit()
    report.sent += len(sent)


async def _send_one(bot: Any, runtime: Runtime, reminder: Reminder, headcounts: list[Any] | None, report: FanOutReport) -> bool:
    with use_language(normalize_language(reminder.language)):
        body, keyboard = render_reminder(reminder, runtime, headcounts), reminder_keyboard(reminder)
    try:
        if reminder.recipient == runtime.settings.admin_chat_id:
            await _wait_for_group_budget(runtime)
        await _send_with_retries(bot, reminder.recipient, body, keyboard)
    except Forbidden:
        report.unreachable.append(reminder.recipient)
        return False
    except BadRequest as exc:
        if "chat not found" in str(exc).lower():
            report.unreachable.append(reminder.recipient)
        else:
            logger.warning("reminder %s to %s refused: %s", reminder.kind.value, reminder.recipient, type(exc).__name__)
            report.failed += 1
        return False
    except NetworkError as exc:
        logger.warning("reminder %s to %s not sent: %s", reminder.kind.value, reminder.recipient, type(exc).__name__)
        report.failed += 1
        return False
    return True


async def _wait_for_group_budget(runtime: Runtime) -> None:
    """Posts to the admin group share its budget with the request cards (about 20 a minute)."""
    budget = get_outbox(runtime).budget
    while (delay := budget.wait_time()) > 0:
        await asyncio.sleep(delay)
    budget.spend()


async def _send_with_retries(bot: Any, chat_id: int, body: str, keyboard: Any) -> None:
    delay = 1.0
    for attempt in range(NETWORK_RETRIES + 1):
        try:
            await bot.send_message(chat_id, body, reply_markup=keyboard)
            return
        except RetryAfter as exc:
            wait = exc.retry_after if isinstance(exc.retry_after, (int, float)) else exc.retry_after.total_seconds()
            await asyncio.sleep(float(wait))
        except (TimedOut, NetworkError) as exc:
            if isinstance(exc, (BadRequest, Forbidden)) or attempt == NETWORK_RETRIES:
                raise
            logger.info("network error sending a reminder, retrying in %.0fs", delay)
            await asyncio.sleep(delay)
            delay *= 2


def schedule_reminders(application: Any, runtime: Runtime) -> None:
    """Register the reminder job."""
    schedule_every_interval(application, runtime, send_due_reminders, name="reminders", first=10)
