"""The job that applies the late-cancellation rule to illness absences left without a
doctor's certificate past the structure's delay (`absences.certificate_days`).

The decision goes through the same path as a staff member's tap: the request is refused on
the structure's behalf, and the card in the admin group and the family's notice are outbox
rows of the job's transaction (`bot.services.absences.settle_overdue`), sent by the sender.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.i18n import _, use_language
from bot.runtime import Runtime, get_runtime
from bot.scheduling import schedule_every_interval
from bot.services.absences import settle_overdue

logger = logging.getLogger(__name__)


async def settle_overdue_absences(context: Any) -> None:
    """The job callback."""
    settled = await settle(get_runtime(context))
    if settled:
        logger.info("absences without certificate billed: %s", settled)


async def settle(runtime: Runtime) -> int:
    """Refuse (bill) each overdue illness absence without certificate; return how many."""
    days = runtime.structure.certificate_days
    with use_language("fr"):  # stored with the request, read by staff and in the family's history
        reason = _(
            "No doctor's certificate was received within {days} days: the rule for late cancellations applies."
        ).format(days=days)
        name = _("Portail Famille (automatic)")
    return await settle_overdue(
        runtime.database, runtime.now(), days, reason=reason, decided_by=name
    )


def schedule_absence_job(application: Any, runtime: Runtime) -> None:
    """Register the job (every REMINDER_INTERVAL_SECONDS, like reminders)."""
    schedule_every_interval(
        application, runtime, settle_overdue_absences, name="absences", first=20
    )
