"""The daily job that moves every regular contract's horizon on by a day.

A contract's "régulier" days are written only up to today + `REGULAR_HORIZON_WEEKS`
(`bot.services.attendance.write_contract_days`): by `/contrat`, by the families' import, and
each day by this job, which writes the day that came within the horizon (and any day missed
while the bot was stopped). It is registered on the scheduler's interval like the other jobs
but works once per local day in a process (the first tick of the day, and the first after a
start); the use case is idempotent, so a second process taking the scheduler lock the same day
writes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.runtime import Runtime, get_runtime
from bot.scheduling import schedule_every_interval
from bot.services.attendance import extend_regular_days

logger = logging.getLogger(__name__)

DONE_KEY = "regular_days_done_on"
"""`Runtime.extensions` key: the local day the job last worked."""


async def extend_contracts(context: Any) -> None:
    """The job callback."""
    written = await extend(get_runtime(context))
    if written:
        logger.info("regular days written: %s", written)


async def extend(runtime: Runtime) -> int:
    """Write every contract's days up to the horizon, once a day; how many were written."""
    today = runtime.today()
    if runtime.extensions.get(DONE_KEY) == today:
        return 0
    written = await extend_regular_days(
        runtime.database,
        runtime.structure,
        today=today,
        now=runtime.now(),
        tz=runtime.settings.tz,
    )
    runtime.extensions[DONE_KEY] = today
    return written


def schedule_regular_days_job(application: Any, runtime: Runtime) -> None:
    """Register the job (checked every REMINDER_INTERVAL_SECONDS, working once a day)."""
    schedule_every_interval(application, runtime, extend_contracts, name="regular-days", first=30)
