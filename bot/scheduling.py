"""Periodic jobs on python-telegram-bot's job queue (APScheduler), every REMINDER_INTERVAL_SECONDS.

What the jobs do is computed from the database each time, so a restart loses nothing; a tick
missed while the bot was busy is coalesced into one.
"""

from __future__ import annotations

from typing import Any

from bot.runtime import Runtime


def schedule_every_interval(
    application: Any, runtime: Runtime, callback: Any, *, name: str, first: float
) -> None:
    """Run `callback` every REMINDER_INTERVAL_SECONDS (0 disables it), first after `first` s."""
    interval = runtime.settings.reminder_interval_seconds
    if interval <= 0 or application.job_queue is None:
        return
    application.job_queue.run_repeating(
        callback,
        interval=interval,
        first=min(first, interval),
        name=name,
        job_kwargs={"misfire_grace_time": interval, "coalesce": True, "max_instances": 1},
    )
