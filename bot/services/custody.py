"""Setting a child's custody in a foyer (garde alternée), by staff."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.custody import monday_of
from bot.domain.model import Custody
from storage.db import UnitOfWork

ACTION_SET_CUSTODY = "staff.custody"


class CustodyOutcome(StrEnum):
    """What became of the change."""

    SET = "set"
    UNKNOWN_FAMILY = "unknown_family"
    UNKNOWN_CHILD = "unknown_child"


@dataclass(frozen=True)
class CustodyResult:
    """The outcome, with the child's first name when found."""

    outcome: CustodyOutcome
    child_name: str | None = None


async def set_custody(
    uow: UnitOfWork,
    family_number: str,
    child_first_name: str,
    custody: Custody,
    reference_monday: dt.date | None,
    *,
    staff_id: int,
    now: dt.datetime,
) -> CustodyResult:
    """Set which weeks a child of the family is in its care; audited."""
    family = await uow.repos.families.get_by_number(family_number)
    if family is None:
        return CustodyResult(CustodyOutcome.UNKNOWN_FAMILY)
    wanted = child_first_name.strip().upper()
    child = next((c for c in await uow.repos.families.children(family.id) if c.first_name.upper() == wanted), None)
    if child is None:
        return CustodyResult(CustodyOutcome.UNKNOWN_CHILD)
    link = await uow.repos.planning.family_link(family.id, child.id)
    assert link is not None
    link.custody = custody
    link.custody_reference_monday = monday_of(reference_monday) if reference_monday else None
    uow.repos.audit.record(
        action=ACTION_SET_CUSTODY, outcome="ok", actor_telegram_id=staff_id, actor_kind="staff",
        family_id=family.id, target=f"child:{child.id}", details={"custody": custody.value}, at=now,
    )
    return CustodyResult(CustodyOutcome.SET, child.first_name)
