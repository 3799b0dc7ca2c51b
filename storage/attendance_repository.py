"""Queries of attendance (pointage): a session's children and marks, regular contracts.

A session's list is loaded in a few queries (the day entries with their children, the marks,
the health flags), whatever the number of children, so a list of 300 renders as fast as one
of 3.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import insert as plain_insert
from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.model import DayStatus, HealthItemKind
from storage.models import (
    AttendanceMark,
    AttendanceSession,
    Child,
    DayEntry,
    DayEntryEvent,
    Enrolment,
    Family,
    HealthItem,
    SchoolYear,
    Service,
)


class AttendanceRepository:
    """Sessions, marks, the children a session may list, and the enrolments' contracts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: AttendanceSession | AttendanceMark | DayEntry) -> None:
        """Stage a new row."""
        self.session.add(row)

    async def service(self, code: str) -> Service | None:
        """The service with this code."""
        stmt = select(Service).where(Service.code == code)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def session_of(
        self, service_id: int, day: dt.date, *, for_update: bool = False
    ) -> AttendanceSession | None:
        """The attendance session of a service on a day, if staff opened it."""
        stmt = select(AttendanceSession).where(
            AttendanceSession.service_id == service_id, AttendanceSession.day == day
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def session_by_id(self, session_id: int) -> AttendanceSession | None:
        """A session by its id (the id buttons carry)."""
        return await self.session.get(AttendanceSession, session_id)

    async def entries(
        self, service_id: int, day: dt.date, statuses: Collection[DayStatus] | None = None
    ) -> Sequence[tuple[DayEntry, Child]]:
        """The day entries of a service on a day (of these statuses), with their children."""
        stmt = (
            select(DayEntry, Child)
            .join(Child, Child.id == DayEntry.child_id)
            .where(DayEntry.service_id == service_id, DayEntry.day == day)
        )
        if statuses is not None:
            stmt = stmt.where(DayEntry.status.in_(list(statuses)))
        return [(entry, child) for entry, child in (await self.session.execute(stmt)).all()]

    async def entry(self, child_id: int, service_id: int, day: dt.date) -> DayEntry | None:
        """One child's day entry for a service."""
        stmt = select(DayEntry).where(
            DayEntry.child_id == child_id, DayEntry.service_id == service_id, DayEntry.day == day
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def marks(self, service_id: int, day: dt.date) -> Sequence[AttendanceMark]:
        """Every mark of a session."""
        stmt = select(AttendanceMark).where(
            AttendanceMark.service_id == service_id, AttendanceMark.day == day
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def mark(self, child_id: int, service_id: int, day: dt.date) -> AttendanceMark | None:
        """One child's mark at a session."""
        stmt = select(AttendanceMark).where(
            AttendanceMark.child_id == child_id,
            AttendanceMark.service_id == service_id,
            AttendanceMark.day == day,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def marks_between(self, first: dt.date, last: dt.date) -> Sequence[AttendanceMark]:
        """Every mark of every session in a period (what billing reads)."""
        stmt = select(AttendanceMark).where(AttendanceMark.day >= first, AttendanceMark.day <= last)
        return (await self.session.execute(stmt)).scalars().all()

    async def children(self, child_ids: Collection[int]) -> Sequence[Child]:
        """Children by id."""
        if not child_ids:
            return []
        stmt = select(Child).where(Child.id.in_(list(child_ids)))
        return (await self.session.execute(stmt)).scalars().all()

    async def health_flags(self, child_ids: Collection[int]) -> dict[int, set[HealthItemKind]]:
        """Which children have an allergy or a PAI on file."""
        if not child_ids:
            return {}
        stmt = select(HealthItem.child_id, HealthItem.kind).where(
            HealthItem.child_id.in_(list(child_ids)),
            HealthItem.kind.in_([HealthItemKind.ALLERGY, HealthItemKind.PAI]),
        )
        flags: dict[int, set[HealthItemKind]] = {}
        for child_id, kind in (await self.session.execute(stmt)).all():
            flags.setdefault(child_id, set()).add(kind)
        return flags

    async def enrolled(self, service_id: int, day: dt.date) -> Sequence[tuple[Enrolment, Child]]:
        """The children enrolled in a service on a day, with their enrolment (who is billed)."""
        stmt = (
            select(Enrolment, Child)
            .join(Child, Child.id == Enrolment.child_id)
            .where(
                Enrolment.service_id == service_id,
                Enrolment.starts_on <= day,
                or_(Enrolment.ends_on.is_(None), Enrolment.ends_on >= day),
            )
            .order_by(Child.first_name, Child.last_name, Child.id)
        )
        return [(enrolment, child) for enrolment, child in (await self.session.execute(stmt)).all()]

    async def enrolment_of(
        self, family_number: str, first_name: str, service_id: int, day: dt.date
    ) -> Sequence[tuple[Enrolment, Child]]:
        """The enrolments in a service on a day of a family's children of this first name."""
        stmt = (
            select(Enrolment, Child)
            .join(Child, Child.id == Enrolment.child_id)
            .join(Family, Family.id == Enrolment.family_id)
            .where(
                Family.number == family_number,
                Enrolment.service_id == service_id,
                Enrolment.starts_on <= day,
                or_(Enrolment.ends_on.is_(None), Enrolment.ends_on >= day),
            )
        )
        folded = first_name.casefold()
        return [
            (enrolment, child)
            for enrolment, child in (await self.session.execute(stmt)).all()
            if child.first_name.casefold() == folded
        ]

    async def entries_from(
        self, child_id: int, service_id: int, first: dt.date, last: dt.date
    ) -> Sequence[DayEntry]:
        """A child's day entries of a service in a period."""
        stmt = select(DayEntry).where(
            DayEntry.child_id == child_id,
            DayEntry.service_id == service_id,
            DayEntry.day >= first,
            DayEntry.day <= last,
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def school_year_end(self, day: dt.date) -> dt.date | None:
        """The last day of the school year holding ``day``, when one is recorded."""
        stmt = select(SchoolYear.ends_on).where(
            SchoolYear.starts_on <= day, SchoolYear.ends_on >= day
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def contracts(self, after: dt.date) -> Sequence[Enrolment]:
        """The enrolments with a regular contract that still run after ``after``."""
        stmt = (
            select(Enrolment)
            .where(
                Enrolment.regular_weekdays.is_not(None),
                Enrolment.regular_weekdays != "",
                or_(Enrolment.ends_on.is_(None), Enrolment.ends_on > after),
            )
            .order_by(Enrolment.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def regular_from(
        self, child_id: int, service_id: int, first: dt.date
    ) -> Sequence[DayEntry]:
        """A child's "régulier" days of a service from ``first`` on (however far)."""
        stmt = select(DayEntry).where(
            DayEntry.child_id == child_id,
            DayEntry.service_id == service_id,
            DayEntry.day >= first,
            DayEntry.status == DayStatus.REGULAR,
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def insert_missing_days(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert day entries, skipping every (child, service, day) already in the planning
        (INSERT … ON CONFLICT DO NOTHING on the unique constraint, batched by SQLAlchemy);
        the ids of the rows inserted. Safe against a booking written meanwhile."""
        if not rows:
            return []
        dialect = self.session.bind.dialect.name if self.session.bind is not None else ""
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(DayEntry)
            .on_conflict_do_nothing(index_elements=["child_id", "service_id", "day"])
            .returning(DayEntry.id)
        )
        result = await self.session.execute(stmt, list(rows))
        return [row_id for (row_id,) in result.all()]

    async def insert_events(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert day entry events in one batched statement."""
        if rows:
            await self.session.execute(plain_insert(DayEntryEvent), list(rows))
