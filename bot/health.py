"""What `GET /healthz` reports: the database, the scheduler's last tick, the outbox backlog.

Healthy means both:

- the database answers a `SELECT 1` within `DATABASE_TIMEOUT_SECONDS`;
- when this process holds the scheduler (the job queue ticks here), its last tick is at most
  `stale_after(settings)` old: three intervals, and never less than `MIN_STALE_SECONDS`. The
  instant the process started to hold it (again) counts as a tick. A process that does
  not hold the scheduler (reminders off, or another process chosen by the scheduler lock) is
  never unhealthy for it.

The outbox backlog is reported, never judged: a long queue after a broadcast is normal, and
Prometheus alerts on `portail_famille_outbox_oldest_age_seconds` are the place to judge it.

The scheduler's tick is recorded by `record_tick`, called on every tick of the job queue's
repeating jobs (bot/scheduling.py). Whoever decides which process runs the scheduler says it
with `set_scheduler_held`; by default a process holds it when REMINDER_INTERVAL_SECONDS > 0.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from bot import metrics
from bot.runtime import Runtime
from bot.settings import Settings
from storage.outbox_repository import Backlog

DATABASE_TIMEOUT_SECONDS = 2.0
MIN_STALE_SECONDS = 300.0
TICK_KEY = "health.scheduler_last_tick"
HELD_KEY = "health.scheduler_held"
HELD_SINCE_KEY = "health.scheduler_held_since"


def stale_after(settings: Settings) -> float:
    """Seconds without a tick after which a process holding the scheduler is unhealthy."""
    return max(MIN_STALE_SECONDS, 3.0 * settings.reminder_interval_seconds)


def record_tick(runtime: Runtime) -> None:
    """The job queue ticked now (call at the start of every repeating job)."""
    runtime.extensions[TICK_KEY] = runtime.now()
    metrics.SCHEDULER_LAST_TICK.set(time.time())


def last_tick(runtime: Runtime) -> dt.datetime | None:
    """When the job queue last ticked in this process."""
    tick: dt.datetime | None = runtime.extensions.get(TICK_KEY)
    return tick


def set_scheduler_held(runtime: Runtime, held: bool) -> None:
    """Say whether this process runs the scheduler now (the scheduler lock's holder does)."""
    if held and not holds_scheduler(runtime, default=False):
        runtime.extensions[HELD_SINCE_KEY] = runtime.now()
    runtime.extensions[HELD_KEY] = held


def holds_scheduler(runtime: Runtime, *, default: bool | None = None) -> bool:
    """Whether the job queue is expected to tick in this process."""
    held = runtime.extensions.get(HELD_KEY)
    if held is None:
        return runtime.settings.reminder_interval_seconds > 0 if default is None else default
    return bool(held)


def mark_started(runtime: Runtime) -> None:
    """The process starts serving: the reference instant before the first tick."""
    runtime.extensions.setdefault(HELD_SINCE_KEY, runtime.now())


@dataclass(frozen=True)
class Health:
    """The facts of one `/healthz` answer."""

    database_ok: bool
    database_error: str | None
    scheduler_held: bool
    last_tick: dt.datetime | None
    tick_age_seconds: float | None
    scheduler_stale: bool
    outbox_pending: int | None
    outbox_oldest_age_seconds: float | None

    @property
    def healthy(self) -> bool:
        """The database answers and, if this process holds the scheduler, it ticks."""
        return self.database_ok and not self.scheduler_stale

    def as_json(self) -> dict[str, Any]:
        """The JSON body of `/healthz`."""
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "database": {"ok": self.database_ok, "error": self.database_error},
            "scheduler": {
                "held": self.scheduler_held,
                "last_tick": self.last_tick.isoformat() if self.last_tick else None,
                "tick_age_seconds": _rounded(self.tick_age_seconds),
                "stale": self.scheduler_stale,
            },
            "outbox": {
                "pending": self.outbox_pending,
                "oldest_age_seconds": _rounded(self.outbox_oldest_age_seconds),
            },
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


async def database_reachable(runtime: Runtime) -> str | None:
    """None when the database answers `SELECT 1` in time, else what went wrong (a type name)."""
    try:
        await asyncio.wait_for(_select_one(runtime), timeout=DATABASE_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"no answer within {DATABASE_TIMEOUT_SECONDS:g}s"
    except Exception as exc:  # any failure to reach it is the answer, never a 500
        return type(exc).__name__
    return None


async def _select_one(runtime: Runtime) -> None:
    async with runtime.database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def outbox_backlog(runtime: Runtime) -> Backlog:
    """What waits in the outbox now, every structure's of the database."""
    async with runtime.database.all_structures().unit_of_work(read_only=True) as uow:
        return await asyncio.wait_for(
            uow.repos.outbox.backlog(runtime.now()), timeout=DATABASE_TIMEOUT_SECONDS
        )


def age_seconds(runtime: Runtime, since: dt.datetime | None) -> float | None:
    """Seconds from `since` to now (never negative), None without `since`."""
    if since is None:
        return None
    if since.tzinfo is None:  # SQLite hands back naive UTC datetimes
        since = since.replace(tzinfo=dt.UTC)
    return max(0.0, (runtime.now() - since).total_seconds())


async def check_health(runtime: Runtime) -> Health:
    """Every fact of `/healthz` (see the module's docstring for what is unhealthy)."""
    error = await database_reachable(runtime)
    pending: int | None = None
    oldest_age: float | None = None
    if error is None:
        try:
            backlog = await outbox_backlog(runtime)
        except Exception as exc:
            error = type(exc).__name__
        else:
            pending, oldest_age = backlog.pending, age_seconds(runtime, backlog.oldest) or 0.0
    held = holds_scheduler(runtime)
    tick = last_tick(runtime)
    since: dt.datetime | None = runtime.extensions.get(HELD_SINCE_KEY)
    reference = max((at for at in (tick, since) if at is not None), default=None)
    tick_age = age_seconds(runtime, reference)
    stale = held and tick_age is not None and tick_age > stale_after(runtime.settings)
    return Health(
        database_ok=error is None,
        database_error=error,
        scheduler_held=held,
        last_tick=tick,
        tick_age_seconds=age_seconds(runtime, tick),
        scheduler_stale=stale,
        outbox_pending=pending,
        outbox_oldest_age_seconds=oldest_age,
    )
