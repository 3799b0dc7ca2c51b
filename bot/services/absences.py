"""Late absences for illness waiting for their doctor's certificate.

A parent may send the certificate up to `certificate_days` after declaring the absence. When
the delay is over without one, the structure's rule for late cancellations applies: the
absence is refused on the structure's behalf and the day becomes "absent facturé".
"""

from __future__ import annotations

import datetime as dt

from bot.domain.model import AbsenceReason, RequestKind
from storage.db import UnitOfWork

SYSTEM_ACTOR_ID = 0


async def overdue_without_certificate(uow: UnitOfWork, now: dt.datetime, certificate_days: int) -> list[int]:
    """Ids of pending illness absences older than the delay and still without a certificate."""
    limit = now - dt.timedelta(days=certificate_days)
    requests = await uow.repos.requests.pending_of_kind_before(RequestKind.ABSENCE, limit)
    return [
        r.id
        for r in requests
        if r.payload.get("reason") == AbsenceReason.ILLNESS.value and r.attachment_file_id is None
    ]
