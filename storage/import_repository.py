"""Queries of the families' import: every family at once, the snapshots, pruning.

An import compares thousands of families with the file, so everything is loaded in a few
queries (families with their guardians, children, current enrolments, snapshots) rather than
family by family.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    Child,
    DayEntry,
    Enrolment,
    Family,
    FamilyChild,
    FamilyImport,
    FamilyImportSnapshot,
    Invoice,
    InvoiceLine,
    Payment,
    Service,
)
from storage.scoping import in_structure


class ImportRepository:
    """Families as the import sees them, the imports applied, and what each one set."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def families(self) -> Sequence[Family]:
        """Every family, guardians loaded."""
        stmt = select(Family).options(selectinload(Family.guardians)).order_by(Family.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def children_by_family(self) -> dict[int, list[Child]]:
        """Every family's children."""
        stmt = (
            select(FamilyChild.family_id, Child)
            .join(Child, Child.id == FamilyChild.child_id)
            .order_by(Child.id)
        )
        result: dict[int, list[Child]] = defaultdict(list)
        for family_id, child in (await self.session.execute(stmt)).all():
            result[family_id].append(child)
        return result

    async def current_enrolments(
        self, today: dt.date
    ) -> dict[tuple[int, int], list[tuple[str, Enrolment]]]:
        """(family, child) → (service code, enrolment) of the enrolments not ended before today."""
        stmt = (
            select(Service.code, Enrolment)
            .join(Service, Service.id == Enrolment.service_id)
            .where(or_(Enrolment.ends_on.is_(None), Enrolment.ends_on >= today))
            .order_by(Enrolment.id)
        )
        result: dict[tuple[int, int], list[tuple[str, Enrolment]]] = defaultdict(list)
        for code, enrolment in (await self.session.execute(stmt)).all():
            result[(enrolment.family_id, enrolment.child_id)].append((code, enrolment))
        return result

    async def snapshots(self) -> dict[int, FamilyImportSnapshot]:
        """family id → what the last import set on it."""
        rows = (await self.session.execute(select(FamilyImportSnapshot))).scalars()
        return {row.family_id: row for row in rows}

    async def families_with_accounts(self) -> set[int]:
        """Families that have invoices or payments (never removed by an import)."""
        invoiced = select(Invoice.family_id).distinct()
        paid = select(Payment.family_id).distinct()
        ids = set((await self.session.execute(invoiced)).scalars()) | set(
            (await self.session.execute(paid)).scalars()
        )
        return ids

    async def ever_imported(self) -> bool:
        """Whether families were ever imported into this database."""
        return bool(
            (
                await self.session.execute(
                    select(exists().where(in_structure(self.session, FamilyImport)))
                )
            ).scalar()
        )

    async def add_import(self, row: FamilyImport) -> FamilyImport:
        """Record an applied import (its id is set)."""
        self.session.add(row)
        await self.session.flush()
        return row

    def add(self, row: Family | Child | FamilyChild | Enrolment | Any) -> None:
        """Stage a new row."""
        self.session.add(row)

    def add_all(self, rows: Sequence[Any]) -> None:
        """Stage new rows."""
        self.session.add_all(list(rows))

    async def flush(self) -> None:
        """Send the staged rows (ids are known after)."""
        await self.session.flush()

    async def save_snapshots(
        self, snapshots: dict[int, dict[str, Any]], import_id: int, at: dt.datetime
    ) -> None:
        """Remember what this import set on each family (replacing the previous snapshot)."""
        existing = await self.snapshots()
        for family_id, values in snapshots.items():
            row = existing.get(family_id)
            if row is None:
                self.session.add(
                    FamilyImportSnapshot(
                        family_id=family_id, import_id=import_id, imported_at=at, values=values
                    )
                )
            else:
                row.import_id, row.imported_at, row.values = import_id, at, values

    async def end_enrolments(
        self, family_id: int, child_id: int, service_codes: Sequence[str], last_day: dt.date
    ) -> None:
        """End the family's enrolments of a child in these services on `last_day`."""
        if not service_codes:
            return
        service_ids = select(Service.id).where(Service.code.in_(list(service_codes)))
        await self.session.execute(
            update(Enrolment)
            .where(
                Enrolment.family_id == family_id,
                Enrolment.child_id == child_id,
                Enrolment.service_id.in_(service_ids),
                or_(Enrolment.ends_on.is_(None), Enrolment.ends_on > last_day),
            )
            .values(ends_on=last_day)
        )

    async def unlink_child(self, family_id: int, child_id: int, today: dt.date) -> None:
        """Take a child out of a family: its enrolments there and its days to come are removed;
        the child itself is deleted when no other family has it and no invoice names it."""
        await self.session.execute(
            delete(Enrolment).where(
                Enrolment.family_id == family_id, Enrolment.child_id == child_id
            )
        )
        await self.session.execute(
            delete(DayEntry).where(
                DayEntry.family_id == family_id,
                DayEntry.child_id == child_id,
                DayEntry.day >= today,
            )
        )
        await self.session.execute(
            delete(FamilyChild).where(
                FamilyChild.family_id == family_id, FamilyChild.child_id == child_id
            )
        )
        await self._delete_orphans([child_id])

    async def remove_family(self, family_id: int) -> None:
        """Delete a family (its guardians, links, requests… go with it) and its children that
        belong to no other family."""
        child_ids = list(
            (
                await self.session.execute(
                    select(FamilyChild.child_id).where(FamilyChild.family_id == family_id)
                )
            ).scalars()
        )
        await self.session.execute(delete(Family).where(Family.id == family_id))
        await self._delete_orphans(child_ids)

    async def _delete_orphans(self, child_ids: Sequence[int]) -> None:
        if not child_ids:
            return
        linked = select(FamilyChild.child_id).where(FamilyChild.child_id.in_(list(child_ids)))
        billed = select(InvoiceLine.child_id).where(InvoiceLine.child_id.in_(list(child_ids)))
        await self.session.execute(
            delete(Child).where(
                Child.id.in_(list(child_ids)), Child.id.not_in(linked), Child.id.not_in(billed)
            )
        )
