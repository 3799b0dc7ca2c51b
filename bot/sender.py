"""The outbox sender: the one place that delivers what the bot starts on its own.

Services write outbox rows in the transaction of the change behind them (`bot.services.outbox`);
this sender drains the table. One sender runs per deployment (a PostgreSQL advisory lock
chooses which process; another takes over within `lock_retry_seconds` when it dies). It:

- claims due rows, most urgent first (`FOR UPDATE SKIP LOCKED` on PostgreSQL; the SQLite write
  lock elsewhere), a few at a time, and marks each one sent right after Telegram took it;
- renders each row with its template (`bot.outgoing`) in the recipient's language;
- sends through the bot's one rate limiter (`bot.ratelimit`) as background traffic, so that
  answers to parents go first and Telegram's limits hold;
- groups request cards into one summary when several wait for the admin group;
- retries network errors with a growing delay until the row's `expires_at`, marks a blocked or
  deleted account unreachable instead of retrying it, and records every other refusal;
- holds back at night what is not urgent (priority REMINDER and BROADCAST: reminders, digests,
  invoices, announcements) until the structure's daytime window opens
  (`bot.domain.reminders.deferred_until`), unless it would be useless by then; the
  consequences of someone's action (NOTICE) always go at once.

After a `kill -9` nothing is lost: rows claimed but not yet marked are put back when the next
sender starts, so the messages that were in flight at that instant (at most `concurrency`)
may arrive twice. We chose this side because Telegram gives no way to ask whether a message
arrived, and a lost decision or request card costs more than a repeated one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter, TelegramError

from bot import metrics
from bot.domain.reminders import deferred_until
from bot.errors import describe_error
from bot.i18n import DEFAULT_LANGUAGE, normalize_language, use_language
from bot.outgoing import (
    Template,
    Verdict,
    classify,
    deliver,
    deliver_or_fall_back,
    get_template,
    groupable_templates,
)
from bot.ratelimit import TelegramRateLimiter, retry_after_seconds
from bot.runtime import Runtime
from bot.services.outbox import ACCOUNT, STAFF, Priority
from storage.db import Database
from storage.locks import shared_lock
from storage.models import OutboxMessage
from storage.outbox_repository import EXPIRED, FAILED, SENT, SKIPPED, UNREACHABLE

logger = logging.getLogger(__name__)

SENDER_LOCK_KEY = 0x5046_4F55_5442  # "PFOUTB"
DIGEST_SIZE = 20
"""Request cards listed in one summary."""
INDIVIDUAL_RESERVE = 6
"""A lone card is posted on its own while more than this many group posts remain free."""
GROUP_RETRY_SECONDS = 300.0
"""When the admin group cannot be written to (bot removed, wrong id), try again this much later."""
MAX_BACKOFF_SECONDS = 300.0
WATCHED_IDLE_SECONDS = 30.0
"""How long an idle sender waits when the process's `OutboxWatch` wakes it for due rows."""
WATCH_KEY = "outbox_watch"


@dataclass
class SenderFigures:
    """What the sender did since it started."""

    sent: int = 0
    skipped: int = 0
    unreachable: int = 0
    failed: int = 0
    retried: int = 0
    expired: int = 0
    digests: int = 0
    deferred: int = 0
    """Rows put back at night to go out in the morning (not urgent)."""


class OutboxSender:
    """Drains the outbox while the application runs (see the module's docstring)."""

    def __init__(
        self,
        runtime: Runtime,
        bot: Any,
        limiter: TelegramRateLimiter | None,
        *,
        concurrency: int = 8,
        poll_seconds: float = 1.0,
        lock_retry_seconds: float = 10.0,
    ) -> None:
        self.runtime = runtime
        self.bot = bot
        self.limiter = limiter
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.lock_retry_seconds = lock_retry_seconds
        self.figures = SenderFigures()
        self._lock = shared_lock(runtime.database, SENDER_LOCK_KEY)
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._unsubscribe: Any = None
        self._claims_released = False
        self._watch: OutboxWatch | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start draining in the background."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._stopping = False
        self._unsubscribe = self.runtime.database.on_outbox_commit(self.wake)
        self._watch = outbox_watch(self.runtime.database, self.poll_seconds)
        self._watch.add(self)
        self._task = asyncio.create_task(self._run(), name=f"outbox-sender-{self.runtime.slug}")

    async def stop(self) -> None:
        """Finish the sends in flight, then stop (SIGTERM loses nothing)."""
        self._stopping = True
        self.wake()
        if self._task is not None:
            await self._task
            self._task = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._watch is not None:
            await self._watch.remove(self)
            self._watch = None
        await self._lock.release()

    def wake(self) -> None:
        """Something was written: look at the outbox now."""
        if self._event is None or self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._event.set()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._event.set)

    async def _run(self) -> None:
        checked_at = 0.0
        while not self._stopping:
            try:
                now = asyncio.get_running_loop().time()
                if self._lock.held and now - checked_at >= self.lock_retry_seconds:
                    checked_at = now  # a lock whose connection died may be another process's now
                    if not await self._lock.still_held():
                        logger.warning("outbox sender: the lock was lost with its connection")
                if not await self._lock.try_acquire():
                    await self._pause(self.lock_retry_seconds)
                    continue
                if not self._claims_released:
                    await self._release_claims()
                handled = await self.drain_once()
            except Exception as exc:  # the database away a moment: try again, never stop sending
                logger.error("outbox sender: %s", describe_error(exc))
                metrics.ERRORS.labels("outbox", type(exc).__name__).inc()
                handled = 0
                await self._pause(self.poll_seconds)
            if not handled:
                await self._pause(WATCHED_IDLE_SECONDS if self._watch else self.poll_seconds)

    async def _pause(self, seconds: float) -> None:
        assert self._event is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout=seconds)
        self._event.clear()

    async def _release_claims(self) -> None:
        async with self.runtime.database.transaction() as uow:
            released = await uow.repos.outbox.release_claims()
        if released:
            logger.warning(
                "outbox: %s messages in flight at the last stop are sent again", released
            )
        self._claims_released = True

    @property
    def structure_id(self) -> int | None:
        """The structure whose outbox this sender drains."""
        return self.runtime.database.structure_id

    # ------------------------------------------------------------------ one round

    async def drain_once(self) -> int:
        """Send what is due now; returns how many rows were handled."""
        handled = await self._send_cards_waiting_for_staff()
        deferred = self.figures.deferred
        rows = await self._claim()
        handled += self.figures.deferred - deferred
        if rows:
            semaphore = asyncio.Semaphore(self.concurrency)

            async def one(row: OutboxMessage) -> None:
                async with semaphore:
                    await self._send_row(row)

            await asyncio.gather(*(one(row) for row in rows))
        return handled + len(rows)

    async def _claim(self) -> list[OutboxMessage]:
        now = self.runtime.now()
        admin = self.runtime.settings.admin_chat_id
        async with self.runtime.database.transaction() as uow:
            rows = await uow.repos.outbox.claim(now, self.concurrency, audience=ACCOUNT)
            staff_room = self._staff_room(admin)
            if staff_room:
                rows += await uow.repos.outbox.claim(
                    now, staff_room, audience=STAFF, exclude_templates=groupable_templates()
                )
            expired = [row for row in rows if row.expires_at is not None and row.expires_at <= now]
            await uow.repos.outbox.finish([row.id for row in expired], EXPIRED, now)
            rows = [row for row in rows if row not in expired]
            waiting = self._waiting_for_daytime(rows, now)
            for at, ids in waiting.items():
                await uow.repos.outbox.defer(ids, at)
        self.figures.expired += len(expired)
        self.figures.deferred += sum(len(ids) for ids in waiting.values())
        deferred = {row_id for ids in waiting.values() for row_id in ids}
        return [row for row in rows if row.id not in deferred]

    def _waiting_for_daytime(
        self, rows: Sequence[OutboxMessage], now: dt.datetime
    ) -> dict[dt.datetime, list[int]]:
        """Rows that are not urgent (reminders, digests, broadcasts) claimed at night, by the
        morning instant they wait for; a row that would be useless by then goes now."""
        daytime, tz = self.runtime.structure.daytime, self.runtime.settings.tz
        waiting: dict[dt.datetime, list[int]] = {}
        for row in rows:
            if row.priority < Priority.REMINDER:
                continue  # the consequence of someone's action: always at once
            at = deferred_until(now, row.expires_at, daytime, tz)
            if at > now:
                waiting.setdefault(at, []).append(row.id)
        return waiting

    def _staff_room(self, admin: int | None) -> int:
        """How many admin-group rows may be claimed now."""
        if admin is None:
            return self.concurrency  # rendered and skipped: no group to post in
        if self.limiter is None:
            return self.concurrency
        return min(self.concurrency, self.limiter.group_free(admin))

    async def _send_cards_waiting_for_staff(self) -> int:
        """Request cards for the group: one by one while it is quiet, else summaries."""
        groupable = groupable_templates()
        if not groupable:
            return 0
        now = self.runtime.now()
        admin = self.runtime.settings.admin_chat_id
        async with self.runtime.database.unit_of_work() as uow:
            waiting = await uow.repos.outbox.pending_of(STAFF, groupable, now, DIGEST_SIZE * 3)
        if not waiting:
            return 0
        free = self._staff_room(admin) if admin is not None else self.concurrency
        if free == 0:
            return 0
        if len(waiting) == 1 and (
            admin is None or free > INDIVIDUAL_RESERVE or self.limiter is None
        ):
            rows = await self._claim_ids([waiting[0].id])
            for row in rows:
                await self._send_row(row)
            return len(rows)
        handled = 0
        by_template: dict[str, list[OutboxMessage]] = {}
        for row in waiting:
            by_template.setdefault(row.template, []).append(row)
        for name, rows in by_template.items():
            for start in range(0, len(rows), DIGEST_SIZE):
                if free <= 0:
                    return handled
                claimed = await self._claim_ids(
                    [row.id for row in rows[start : start + DIGEST_SIZE]]
                )
                if claimed:
                    await self._send_digest(get_template(name), claimed)
                    handled += len(claimed)
                    free -= 1
        return handled

    async def _claim_ids(self, ids: Sequence[int]) -> list[OutboxMessage]:
        async with self.runtime.database.transaction() as uow:
            return await uow.repos.outbox.claim(
                self.runtime.now(), len(ids), audience=STAFF, ids=ids
            )

    # ------------------------------------------------------------------ sending

    async def _send_row(self, row: OutboxMessage) -> None:
        entry = get_template(row.template)
        chat_id = self._chat_of(row)
        if entry is None or chat_id is None:
            why = "unknown template" if entry is None else "no admin group"
            if entry is None:
                logger.error("outbox row %s: template %s is not registered", row.id, row.template)
            await self._finish(row, SKIPPED if chat_id is None else FAILED, why)
            return
        try:
            with use_language(self._language_of(row)):
                outgoing = await entry.render(self.runtime, row.params)
        except Exception as exc:
            logger.error(
                "outbox row %s (%s) not rendered: %s", row.id, row.template, describe_error(exc)
            )
            metrics.ERRORS.labels("outbox", type(exc).__name__).inc()
            await self._finish(row, FAILED, type(exc).__name__)
            return
        if outgoing is None:
            await self._finish(row, SKIPPED, None)
            return
        try:
            message_ids = await deliver_or_fall_back(self.bot, chat_id, outgoing)
        except TelegramError as exc:
            await self._failed(row, chat_id, exc)
            return
        await self._sent(row, entry, chat_id, message_ids)

    async def _send_digest(self, entry: Template | None, rows: list[OutboxMessage]) -> None:
        admin = self.runtime.settings.admin_chat_id
        if entry is None or entry.digest is None or admin is None:
            for row in rows:
                await self._send_row(row)
            return
        params = [row.params for row in rows]
        try:
            with use_language(DEFAULT_LANGUAGE):
                outgoing = await entry.digest(self.runtime, params)
            message_ids = await deliver(self.bot, admin, outgoing) if outgoing is not None else []
        except TelegramError as exc:
            for row in rows:
                await self._failed(row, admin, exc)
            return
        now = self.runtime.now()
        async with self.runtime.database.transaction() as uow:
            if entry.on_digest_sent is not None and message_ids:
                await entry.on_digest_sent(uow, params, message_ids[-1])
            await uow.repos.outbox.finish(
                [row.id for row in rows],
                SENT if message_ids else SKIPPED,
                now,
                message_ids=message_ids,
            )
        self.figures.digests += 1
        self.figures.sent += len(rows)
        metrics.OUTBOX_FINISHED.labels(SENT if message_ids else SKIPPED).inc(len(rows))

    async def _sent(
        self, row: OutboxMessage, entry: Template, chat_id: int, message_ids: list[int]
    ) -> None:
        now = self.runtime.now()
        if entry.on_sent is not None:
            try:
                async with self.runtime.database.transaction() as uow:
                    await entry.on_sent(uow, row.params, message_ids)
            except Exception as exc:
                logger.error(
                    "outbox row %s: after-send step failed: %s", row.id, describe_error(exc)
                )
        async with self.runtime.database.transaction() as uow:
            await uow.repos.outbox.finish([row.id], SENT, now, message_ids=message_ids)
            if row.audience == ACCOUNT:
                await uow.repos.telegram.mark_reachable([chat_id])
        self.figures.sent += 1
        metrics.OUTBOX_FINISHED.labels(SENT).inc()

    async def _failed(self, row: OutboxMessage, chat_id: int, error: TelegramError) -> None:
        verdict = classify(error)
        name = type(error).__name__
        if verdict is Verdict.DONE:
            await self._finish(row, SENT, None)
        elif verdict is Verdict.GONE:
            await self._finish(row, SKIPPED, name)
        elif verdict is Verdict.UNREACHABLE and row.audience == ACCOUNT:
            async with self.runtime.database.transaction() as uow:
                await uow.repos.outbox.finish([row.id], UNREACHABLE, self.runtime.now(), error=name)
                await uow.repos.telegram.mark_unreachable([chat_id], self.runtime.now())
            self.figures.unreachable += 1
            metrics.OUTBOX_FINISHED.labels(UNREACHABLE).inc()
        elif verdict is Verdict.UNREACHABLE:
            logger.error(
                "the bot cannot post in the admin group (ADMIN_CHAT_ID wrong, bot removed?); messages wait"
            )
            await self._retry(row, GROUP_RETRY_SECONDS, name)
        elif verdict is Verdict.RETRY:
            delay = (
                retry_after_seconds(error)
                if isinstance(error, RetryAfter)
                else min(MAX_BACKOFF_SECONDS, 2.0**row.attempts)
            )
            logger.warning(
                "outbox row %s not sent yet (%s), next try in %.0fs", row.id, name, delay
            )
            await self._retry(row, delay, name)
        else:
            logger.warning("Telegram refused outbox row %s (%s): %s", row.id, row.template, name)
            await self._finish(row, FAILED, name)

    async def _retry(self, row: OutboxMessage, delay: float, error: str) -> None:
        at = self.runtime.now() + dt.timedelta(seconds=delay)
        if row.expires_at is not None and at >= row.expires_at:
            await self._finish(row, EXPIRED, error)
            return
        async with self.runtime.database.transaction() as uow:
            await uow.repos.outbox.retry_later(row.id, at, error)
        self.figures.retried += 1

    async def _finish(self, row: OutboxMessage, status: str, error: str | None) -> None:
        async with self.runtime.database.transaction() as uow:
            await uow.repos.outbox.finish([row.id], status, self.runtime.now(), error=error)
        metrics.OUTBOX_FINISHED.labels(status).inc()
        counter = {
            SENT: "sent",
            SKIPPED: "skipped",
            FAILED: "failed",
            EXPIRED: "expired",
            UNREACHABLE: "unreachable",
        }[status]
        setattr(self.figures, counter, getattr(self.figures, counter) + 1)

    def _chat_of(self, row: OutboxMessage) -> int | None:
        return self.runtime.settings.admin_chat_id if row.audience == STAFF else row.chat_id

    @staticmethod
    def _language_of(row: OutboxMessage) -> str:
        return DEFAULT_LANGUAGE if row.audience == STAFF else normalize_language(row.language)


class OutboxWatch:
    """Which structures of the process have messages due: one query for all of them every
    `poll_seconds`, and their senders woken. Without it each structure's sender would ask the
    database every second on its own (a hundred structures, a hundred transactions a second).
    Rows written in this process wake their sender at commit; the watch finds the others:
    written by another worker, or due later (a retry, the morning after a night).
    """

    def __init__(self, database: Database, poll_seconds: float) -> None:
        self.database = database.all_structures()
        self.poll_seconds = poll_seconds
        self._senders: dict[int | None, OutboxSender] = {}
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def add(self, sender: OutboxSender) -> None:
        """Wake `sender` when its structure has rows due (the watch starts with its first)."""
        self._senders[sender.structure_id] = sender
        if self._task is None:
            self._stop = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="outbox-watch")

    async def remove(self, sender: OutboxSender) -> None:
        """Stop watching for `sender` (the watch stops with its last, its query finished)."""
        self._senders.pop(sender.structure_id, None)
        if not self._senders and self._task is not None:
            task, self._task = self._task, None
            self._stop.set()
            await task

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.poll_seconds)
                return
            try:
                await self.wake_due()
            except Exception as exc:  # the database away a moment: the next round tries again
                logger.warning("outbox watch: %s", describe_error(exc))

    async def wake_due(self) -> None:
        """Wake the senders of the structures with rows due now."""
        senders = list(self._senders.values())
        if not senders:
            return
        now = senders[0].runtime.now()
        async with self.database.unit_of_work(read_only=True) as uow:
            due = await uow.repos.outbox.structures_due(now)
        for structure_id in due:
            sender = self._senders.get(structure_id)
            if sender is not None:
                sender.wake()


def outbox_watch(database: Database, poll_seconds: float) -> OutboxWatch:
    """The process's one watch over the outboxes of its structures."""
    watch: OutboxWatch | None = database.shared.get(WATCH_KEY)
    if watch is None:
        watch = database.shared[WATCH_KEY] = OutboxWatch(database, poll_seconds)
    return watch
