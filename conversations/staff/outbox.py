"""The admin group's outbox: what the bot posts there on its own, kept under Telegram's limit.

Telegram lets a bot post about 20 messages a minute in a group. Request cards and family
messages arrive whenever parents act, possibly all at once, so the bot's own posts go through
this outbox, which spends at most `GROUP_BUDGET_PER_MINUTE` messages in any minute and leaves
the rest of the allowance to the staff's commands. The database is the queue: a pending
request without `admin_message_id`, or a family message without one, is still to be posted,
so nothing is lost across a restart and nothing is posted twice.

While the group is quiet each request gets its own card at once. When many arrive together,
they wait a moment (`DIGEST_SETTLE_SECONDS`) and are posted as one summary (a digest) with a
button per request that opens its card. Family messages are always posted one by one (staff
answer them by replying), as the budget allows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from telegram.ext import Application, ContextTypes, JobQueue

from bot.runtime import RUNTIME_KEY, Runtime, get_runtime

logger = logging.getLogger(__name__)

GROUP_BUDGET_PER_MINUTE = 12
"""Messages the outbox may post in the admin group in any 60 seconds (Telegram allows ~20)."""
INDIVIDUAL_RESERVE = 6
"""Requests get individual cards only while more than this many posts remain in the budget."""
DIGEST_SETTLE_SECONDS = 2.0
"""How long a burst of requests is collected before its digest is posted."""
DIGEST_SIZE = 20
"""Requests listed in one digest message."""
RETRY_SECONDS = 30.0
"""When Telegram could not be reached, the next attempt is this much later."""
STARTUP_DELAY_SECONDS = 1.0
FLUSH_JOB = "staff-outbox-flush"
_KEY = "staff_outbox"


class SlidingBudget:
    """At most `limit` messages in any `period` seconds."""

    def __init__(self, limit: int, period: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.period, self._clock = limit, period, clock
        self._spent: deque[float] = deque()

    def _trim(self) -> float:
        now = self._clock()
        while self._spent and self._spent[0] <= now - self.period:
            self._spent.popleft()
        return now

    def free(self) -> int:
        """How many messages may be posted now."""
        self._trim()
        return max(0, self.limit - len(self._spent))

    def spend(self, count: int = 1) -> None:
        """Count messages just posted."""
        now = self._trim()
        self._spent.extend([now] * count)

    def wait_time(self) -> float:
        """Seconds until one message may be posted (0 when one may be now)."""
        now = self._trim()
        if len(self._spent) < self.limit:
            return 0.0
        return max(0.0, self._spent[0] + self.period - now)


class AdminOutbox:
    """The admin group's budget, and the scheduled flush that posts what is waiting."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.budget = SlidingBudget(GROUP_BUDGET_PER_MINUTE, 60.0, clock)
        self.job_queue: JobQueue[Any] | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._due: float | None = None

    @property
    def lock(self) -> asyncio.Lock:
        """Serialises flushes (one per event loop)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    @property
    def flush_scheduled(self) -> bool:
        """True while a flush is planned."""
        return self._due is not None

    def schedule(self, delay: float) -> None:
        """Plan a flush in `delay` seconds, unless one is already planned by then."""
        if self.job_queue is None:
            logger.warning("admin outbox: no job queue, waiting posts go out with the next flush")
            return
        due = self._clock() + delay
        if self._due is not None and self._due <= due + 0.05:
            return
        self._due = due
        self.job_queue.run_once(_flush_job, when=max(0.0, delay), name=FLUSH_JOB)

    def started_flush(self) -> None:
        """The planned flush is running."""
        self._due = None


def get_outbox(runtime: Runtime) -> AdminOutbox:
    """The runtime's outbox (created on first use)."""
    outbox = runtime.extensions.get(_KEY)
    if outbox is None:
        outbox = AdminOutbox()
        runtime.extensions[_KEY] = outbox
    return outbox


def install(application: Application) -> None:  # type: ignore[type-arg]
    """Attach the outbox to the application's job queue and post what waited during a stop."""
    outbox = get_outbox(application.bot_data[RUNTIME_KEY])
    outbox.job_queue = application.job_queue
    outbox._due = None
    outbox.schedule(STARTUP_DELAY_SECONDS)


async def _flush_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = get_runtime(context)
    get_outbox(runtime).started_flush()
    await flush(context.bot, runtime, scheduled=True)


async def flush(bot: Any, runtime: Runtime, *, scheduled: bool) -> None:
    """Post what waits (family messages, then requests) as the budget allows.

    `scheduled` is True when the planned flush runs: only then are digests posted, so that a
    burst is collected into one message instead of many.
    """
    if runtime.settings.admin_chat_id is None:
        return
    from conversations.staff import cards, relay  # they post through this module

    outbox = get_outbox(runtime)
    async with outbox.lock:
        await relay.flush_relays(bot, runtime, outbox)
        await cards.flush_cards(bot, runtime, outbox, scheduled=scheduled)
