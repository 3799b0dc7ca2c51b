"""The job that applies the late-cancellation rule to illness absences left without a
doctor's certificate past the structure's delay (`absences.certificate_days`).

The decision goes through the same path as a staff member's tap: the request is refused on
the structure's behalf, the card in the admin group shows it, and the family is told.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.i18n import _, use_language
from bot.runtime import Runtime, get_runtime
from bot.scheduling import schedule_every_interval
from bot.services.absences import SYSTEM_ACTOR_ID, overdue_without_certificate
from bot.services.request_cards import decide_from_card
from bot.services.requests import DecisionOutcome
from conversations.notify import notify_family
from conversations.staff.cards import refresh_cards
from conversations.staff.decisions import decision_text_for_parent

logger = logging.getLogger(__name__)


async def settle_overdue_absences(context: Any) -> None:
    """The job callback."""
    settled = await settle(context.bot, get_runtime(context))
    if settled:
        logger.info("absences without certificate billed: %s", settled)


async def settle(bot: Any, runtime: Runtime) -> int:
    """Refuse (bill) each overdue illness absence without certificate; return how many."""
    days = runtime.structure.certificate_days
    async with runtime.database.unit_of_work() as uow:
        request_ids = await overdue_without_certificate(uow, runtime.now(), days)
    with use_language("fr"):  # stored with the request, read by staff and in the family's history
        reason = _("No doctor's certificate was received within {days} days: the rule for late cancellations applies.").format(days=days)
        name = _("Portail Famille (automatic)")
    settled = 0
    for request_id in request_ids:
        async with runtime.database.unit_of_work() as uow:
            decision = await decide_from_card(
                uow, request_id, accept=False, staff_id=SYSTEM_ACTOR_ID, staff_name=name, now=runtime.now(), reason=reason
            )
            await uow.commit()
        if decision.outcome != DecisionOutcome.DECIDED or decision.card is None:
            continue
        card = decision.card
        settled += 1
        await refresh_cards(bot, runtime, card)
        await notify_family(bot, runtime, card.family_id, lambda: decision_text_for_parent(card), recipients=decision.recipients)
    return settled


def schedule_absence_job(application: Any, runtime: Runtime) -> None:
    """Register the job (every REMINDER_INTERVAL_SECONDS, like reminders)."""
    schedule_every_interval(application, runtime, settle_overdue_absences, name="absences", first=20)
