"""A full day of the Christmas holiday ALSH, for the stories where cancelling frees a place.

The ALSH Vacances cancellation deadline is 7 days before the child's first day of attendance
in the holidays, so children of one family booked on the same day can be on either side of it:
on Tuesday 15 December 2026 at 10:00, a child who starts on Monday 21 December is late (its
deadline was Monday 14 December at 18:30), one who starts on Wednesday 23 December is not
(Wednesday 16 December at 18:30).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from bot.domain.model import DayStatus
from bot.structure import Structure
from storage.db import Database
from storage.models import BookingWindow, DayEntry, Enrolment

PARIS = ZoneInfo("Europe/Paris")
ALSH = "alsh_vacances"
MONDAY_21, WEDNESDAY_23 = dt.date(2026, 12, 21), dt.date(2026, 12, 23)
TUESDAY_15 = dt.datetime(2026, 12, 15, 10, 0, tzinfo=PARIS)


def with_capacity(structure: Structure, code: str, capacity: int) -> Structure:
    """The structure with one service's capacity changed."""
    services = tuple(
        dataclasses.replace(s, rules=dataclasses.replace(s.rules, capacity=capacity))
        if s.code == code
        else s
        for s in structure.services
    )
    return dataclasses.replace(structure, services=services)


async def child_id(db: Database, number: str, first_name: str) -> tuple[int, int]:
    """(family id, child id) of a family's child by first name."""
    async with db.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        assert family is not None
        child = next(
            c for c in await uow.repos.families.children(family.id) if c.first_name == first_name
        )
        return family.id, child.id


async def enrol(db: Database, number: str, first_name: str, code: str = ALSH) -> None:
    """Enrol a family's child in a service from September."""
    family_id, child = await child_id(db, number, first_name)
    async with db.unit_of_work() as uow:
        service = await uow.repos.structure.service_by_code(code)
        uow.session.add(
            Enrolment(
                child_id=child,
                service_id=service.id,
                family_id=family_id,
                starts_on=dt.date(2026, 9, 1),
            )
        )
        await uow.commit()


async def reserve(
    db: Database, number: str, first_name: str, days: list[dt.date], code: str = ALSH
) -> None:
    """Days already booked (as after staff accepted the requests)."""
    family_id, child = await child_id(db, number, first_name)
    async with db.unit_of_work() as uow:
        service = await uow.repos.structure.service_by_code(code)
        for day in days:
            uow.session.add(
                DayEntry(
                    child_id=child,
                    service_id=service.id,
                    family_id=family_id,
                    day=day,
                    status=DayStatus.RESERVED,
                )
            )
        await uow.commit()


async def open_christmas_window(db: Database, code: str = ALSH) -> int:
    """Bookings of the Christmas holidays open from 1 November to 31 December; the service id."""
    async with db.unit_of_work() as uow:
        service = await uow.repos.structure.service_by_code(code)
        uow.session.add(
            BookingWindow(
                service_id=service.id,
                period_starts_on=dt.date(2026, 12, 19),
                period_ends_on=dt.date(2027, 1, 3),
                opens_at=dt.datetime(2026, 11, 1, 8, 0, tzinfo=PARIS),
                closes_at=dt.datetime(2026, 12, 31, 12, 0, tzinfo=PARIS),
            )
        )
        await uow.commit()
        return service.id
