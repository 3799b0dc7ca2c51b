"""Periodic jobs on python-telegram-bot's job queue (APScheduler), every REMINDER_INTERVAL_SECONDS.

What the jobs do is computed from the database each time, so a restart loses nothing; a tick
missed while the bot was busy is coalesced into one.

One process of the deployment runs them: the one holding the scheduler lock (`SchedulerLease`,
an advisory lock of storage/locks.py: on PostgreSQL a session lock kept by a connection of its
own, on SQLite a file lock). Every process registers the jobs; a tick in a process that does not
hold the lock does nothing, and that process still answers updates. Every process tries to take
the lock every `LEASE_RETRY_SECONDS` (or the interval, when shorter) and checks that a lock it
holds is still there: when the holder dies its connection closes, PostgreSQL frees the lock, and
another process runs the next ticks, within a minute.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.health import record_tick, set_scheduler_held
from bot.runtime import Runtime
from storage.db import Database
from storage.locks import shared_lock

logger = logging.getLogger(__name__)

SCHEDULER_LOCK_KEY = 0x5046_5343_4844  # "PFSCHD"
LEASE_RETRY_SECONDS = 15.0
LEASE_KEY = "scheduler_lease"


class SchedulerLease:
    """Whether this process runs the periodic jobs: it does while it holds the scheduler lock."""

    def __init__(self, database: Database, retry_seconds: float = LEASE_RETRY_SECONDS) -> None:
        self.retry_seconds = retry_seconds
        self._lock = shared_lock(database, SCHEDULER_LOCK_KEY)

    @property
    def held(self) -> bool:
        """True while this process holds the lock (as of the last `renew`)."""
        return self._lock.held

    async def renew(self) -> bool:
        """Check that a held lock is still there, else try to take it; True when held."""
        was_held = self._lock.held
        if was_held and not await self._lock.still_held():
            logger.warning("the scheduler lock was lost with its database connection")
        try:
            held = await self._lock.try_acquire()
        except Exception as exc:
            logger.warning("the scheduler lock could not be asked for: %s", type(exc).__name__)
            held = False
        if held and not was_held:
            logger.info("this process now runs the scheduled jobs")
        return held

    async def release(self) -> None:
        """Give the lock back (on stop): another process takes it at its next try."""
        await self._lock.release()


def get_lease(runtime: Runtime) -> SchedulerLease | None:
    """This process's scheduler lease, once a job was scheduled: one for every structure the
    process serves (the first structure's job queue renews it)."""
    lease: SchedulerLease | None = runtime.database.shared.get(LEASE_KEY)
    return lease


def _lease(application: Any, runtime: Runtime, interval: float) -> SchedulerLease:
    """The lease shared by every job, and the job that renews it (both made once)."""
    lease = get_lease(runtime)
    if lease is None:
        lease = runtime.database.shared[LEASE_KEY] = SchedulerLease(
            runtime.database, min(LEASE_RETRY_SECONDS, interval)
        )

        async def renew(context: Any) -> None:
            set_scheduler_held(runtime, await lease.renew())

        application.job_queue.run_repeating(
            renew,
            interval=lease.retry_seconds,
            first=0,
            name="scheduler-lease",
            job_kwargs={"coalesce": True, "max_instances": 1},
        )
    return lease


def schedule_every_interval(
    application: Any, runtime: Runtime, callback: Any, *, name: str, first: float
) -> None:
    """Run `callback` every REMINDER_INTERVAL_SECONDS (0 disables it), first after `first` s.

    Only the process holding the scheduler lock runs the callback (see the module's
    docstring); each of its ticks is recorded first, for `/healthz` (bot/health.py).
    """
    interval = runtime.settings.reminder_interval_seconds
    if interval <= 0 or application.job_queue is None:
        return
    lease = _lease(application, runtime, interval)

    async def tick(context: Any) -> None:
        if not lease.held:
            return  # another process runs the scheduled jobs
        record_tick(runtime)
        await callback(context)

    application.job_queue.run_repeating(
        tick,
        interval=interval,
        first=min(first, interval),
        name=name,
        job_kwargs={"misfire_grace_time": interval, "coalesce": True, "max_instances": 1},
    )
