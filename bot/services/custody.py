"""Setting a child's custody in a foyer (garde alternée), by staff: one audited use case."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.custody import monday_of
from bot.domain.model import Custody
from bot.services.staff_audit import audit_staff
from bot.services.use_case import use_case
from storage.db import Database, UnitOfWork

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
    db: Database,
    family_number: str,
    child_first_name: str,
    custody: Custody,
    reference_monday: dt.date | None,
    *,
    staff_id: int,
    now: dt.datetime,
) -> CustodyResult:
    """Set which weeks a child of the family is in its care; audited with its outcome."""
    async with use_case(db) as uow:
        result, family_id, target = await _set_custody(
            uow, family_number, child_first_name, custody, reference_monday
        )
        audit_staff(
            uow,
            staff_id,
            ACTION_SET_CUSTODY,
            now=now,
            outcome="ok" if result.outcome == CustodyOutcome.SET else "refused",
            family_id=family_id,
            target=target,
            details={"custody": custody.value, "result": result.outcome.value},
        )
        return result


async def _set_custody(
    uow: UnitOfWork,
    family_number: str,
    child_first_name: str,
    custody: Custody,
    reference_monday: dt.date | None,
) -> tuple[CustodyResult, int | None, str]:
    family = await uow.repos.families.get_by_number(family_number)
    if family is None:
        return CustodyResult(CustodyOutcome.UNKNOWN_FAMILY), None, f"family:{family_number[:40]}"
    wanted = child_first_name.strip().upper()
    child = next(
        (c for c in await uow.repos.families.children(family.id) if c.first_name.upper() == wanted),
        None,
    )
    if child is None:
        return CustodyResult(CustodyOutcome.UNKNOWN_CHILD), family.id, f"child:{wanted[:40]}"
    link = await uow.repos.planning.family_link(family.id, child.id)
    assert link is not None
    link.custody = custody
    link.custody_reference_monday = monday_of(reference_monday) if reference_monday else None
    return CustodyResult(CustodyOutcome.SET, child.first_name), family.id, f"child:{child.id}"
