"""Late absences for illness waiting for their doctor's certificate.

A parent may send the certificate up to `certificate_days` after declaring the absence. When
the delay is over without one, the structure's rule for late cancellations applies: the
absence is refused on the structure's behalf and the day becomes "absent facturé". The
decision, the family's notice and the update of the staff's card are written in one
transaction (`settle_overdue`), so a crash never leaves a decision nobody was told about.
"""

from __future__ import annotations

import datetime as dt
import logging

from bot.domain.model import AbsenceReason, RequestKind
from bot.services.request_cards import decide_and_tell
from bot.services.requests import DecisionOutcome
from bot.services.use_case import use_case
from storage.db import Database, UnitOfWork

SYSTEM_ACTOR_ID = 0

logger = logging.getLogger(__name__)


async def overdue_without_certificate(
    uow: UnitOfWork, now: dt.datetime, certificate_days: int
) -> list[int]:
    """Ids of pending illness absences older than the delay and still without a certificate."""
    limit = now - dt.timedelta(days=certificate_days)
    requests = await uow.repos.requests.pending_of_kind_before(RequestKind.ABSENCE, limit)
    return [
        r.id
        for r in requests
        if r.payload.get("reason") == AbsenceReason.ILLNESS.value and r.attachment_file_id is None
    ]


async def settle_overdue(
    db: Database, now: dt.datetime, certificate_days: int, *, reason: str, decided_by: str
) -> int:
    """Refuse (bill) each overdue illness absence without certificate; return how many.

    Each refusal tells the family and updates the staff's card through the outbox, in the
    job's transaction; a request whose refusal fails is left pending (and logged), the others
    are still settled.
    """
    settled = 0
    async with use_case(db) as uow:
        for request_id in await overdue_without_certificate(uow, now, certificate_days):
            try:
                async with uow.session.begin_nested():
                    decision = await decide_and_tell(
                        uow,
                        request_id,
                        accept=False,
                        staff_id=SYSTEM_ACTOR_ID,
                        staff_name=decided_by,
                        now=now,
                        reason=reason,
                    )
            except Exception as exc:
                logger.warning("absence %s not settled: %s", request_id, type(exc).__name__)
                continue
            settled += decision.outcome == DecisionOutcome.DECIDED
    return settled
