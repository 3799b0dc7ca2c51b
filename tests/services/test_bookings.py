"""Booking use cases on the demo structure: rules, capacity, waiting list, history, races.

Today is Monday 23 November 2026 (zone C); school runs Monday, Tuesday, Thursday, Friday.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.model import DayStatus, RequestKind, RequestStatus
from bot.domain.rules import Reason
from bot.services import bookings
from bot.services import booking_requests  # noqa: F401 - registers the request types
from bot.services.bookings import BookingOutcome
from bot.services.children import ACTION_OWNERSHIP_REFUSED
from bot.services.requests import decide_request
from bot.structure import Structure
from storage.db import Database

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)  # Monday 09:00
THURSDAY = dt.date(2026, 12, 3)
TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)
DUPONT, MARTIN = "1001001818331", "1001001818332"


def with_capacity(structure: Structure, code: str, capacity: int) -> Structure:
    services = tuple(
        dataclasses.replace(s, rules=dataclasses.replace(s.rules, capacity=capacity)) if s.code == code else s
        for s in structure.services
    )
    return dataclasses.replace(structure, services=services)


async def _ids(db: Database, number: str, first_name: str) -> tuple[int, int]:
    async with db.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        child = next(c for c in await uow.repos.families.children(family.id) if c.first_name == first_name)
        return family.id, child.id


async def _service_id(db: Database, code: str) -> int:
    async with db.unit_of_work() as uow:
        return (await uow.repos.structure.service_by_code(code)).id


async def act(db: Database, structure: Structure, number: str, name: str, code: str, day: dt.date, now: dt.datetime = NOW, what: str = "book", **kwargs):  # type: ignore[no-untyped-def]
    family_id, child_id = await _ids(db, number, name)
    service_id = await _service_id(db, code)
    async with db.unit_of_work() as uow:
        planning = await bookings.load_planning(uow, structure, PARIS, day - dt.timedelta(days=40), day + dt.timedelta(days=40))
        child = await bookings.owned_child(uow, family_id, child_id, actor=1, now=now)
        function = {"book": bookings.book, "cancel": bookings.cancel, "wait": bookings.join_waiting_list}[what]
        if what == "wait":
            result = await function(uow, planning, family_id, child, service_id, day, now)
        else:
            result = await function(uow, planning, family_id, child, service_id, day, now, actor=1, **kwargs)
        await uow.commit()
        return result


async def status_of(db: Database, number: str, name: str, code: str, day: dt.date) -> DayStatus | None:
    _, child_id = await _ids(db, number, name)
    service_id = await _service_id(db, code)
    async with db.unit_of_work() as uow:
        entry = await uow.repos.planning.entry(child_id, service_id, day)
        return entry.status if entry else None


@pytest.mark.parametrize(
    ("code", "day", "now", "outcome", "status"),
    [
        ("cantine", THURSDAY, NOW, BookingOutcome.BOOKED, DayStatus.RESERVED),
        ("cantine", dt.date(2026, 11, 26), NOW, BookingOutcome.REFUSED, None),  # week closed last Friday 12:00
        ("garderie_matin", TUESDAY, dt.datetime(2026, 11, 23, 18, 29, tzinfo=PARIS), BookingOutcome.BOOKED, DayStatus.RESERVED),
        ("garderie_matin", TUESDAY, dt.datetime(2026, 11, 23, 18, 30, tzinfo=PARIS), BookingOutcome.REFUSED, None),
        ("alsh_mercredi", WEDNESDAY, dt.datetime(2026, 11, 23, 9, 59, tzinfo=PARIS), BookingOutcome.PENDING, DayStatus.BOOKING_PROCESSING),
        ("alsh_mercredi", WEDNESDAY, dt.datetime(2026, 11, 23, 10, 0, tzinfo=PARIS), BookingOutcome.REFUSED, None),
        ("cantine", dt.date(2026, 12, 25), NOW, BookingOutcome.REFUSED, None),  # Christmas
    ],
)
async def test_booking_follows_the_rules(demo_database: Database, structure: Structure, code, day, now, outcome, status) -> None:  # type: ignore[no-untyped-def]
    result = await act(demo_database, structure, DUPONT, "LUCAS", code, day, now)
    assert result.outcome == outcome, result
    assert await status_of(demo_database, DUPONT, "LUCAS", code, day) == status
    if outcome == BookingOutcome.REFUSED and code == "cantine" and day.month == 11:
        assert result.decision.reason == Reason.TOO_LATE
        assert result.decision.deadline == dt.datetime(2026, 11, 20, 12, 0, tzinfo=PARIS)


async def test_garderie_soir_books_and_cancels_the_gouter_with_it(demo_database: Database, structure: Structure) -> None:
    result = await act(demo_database, structure, DUPONT, "LUCAS", "garderie_soir", TUESDAY)
    assert result.outcome == BookingOutcome.BOOKED and set(result.services) == {"garderie_soir", "gouter"}
    assert await status_of(demo_database, DUPONT, "LUCAS", "gouter", TUESDAY) == DayStatus.RESERVED
    result = await act(demo_database, structure, DUPONT, "LUCAS", "gouter", TUESDAY, dt.datetime(2026, 11, 24, 8, 0, tzinfo=PARIS), what="cancel")
    assert result.outcome == BookingOutcome.CANCELLED
    assert await status_of(demo_database, DUPONT, "LUCAS", "garderie_soir", TUESDAY) == DayStatus.CANCELLED


async def test_a_double_tap_books_once(demo_database: Database, structure: Structure) -> None:
    first = await act(demo_database, structure, DUPONT, "LUCAS", "cantine", THURSDAY)
    second = await act(demo_database, structure, DUPONT, "LUCAS", "cantine", THURSDAY)
    assert (first.outcome, second.outcome) == (BookingOutcome.BOOKED, BookingOutcome.ALREADY)
    _, child_id = await _ids(demo_database, DUPONT, "LUCAS")
    async with demo_database.unit_of_work() as uow:
        entry = await uow.repos.planning.entry(child_id, await _service_id(demo_database, "cantine"), THURSDAY)
        history = await uow.repos.planning.history(entry.id)
    assert [(e.from_status, e.to_status, e.actor_telegram_id) for e in history] == [(None, DayStatus.RESERVED, 1)]


async def test_cancel_in_time_is_free_late_needs_consent_then_staff_decide(demo_database: Database, structure: Structure) -> None:
    await act(demo_database, structure, DUPONT, "LUCAS", "garderie_soir", TUESDAY)
    morning = dt.datetime(2026, 11, 24, 9, 30, tzinfo=PARIS)  # after 09:00 the same day
    refused = await act(demo_database, structure, DUPONT, "LUCAS", "garderie_soir", TUESDAY, morning, what="cancel")
    assert refused.outcome == BookingOutcome.REFUSED
    assert refused.decision.deadline == dt.datetime(2026, 11, 24, 9, 0, tzinfo=PARIS)
    assert await status_of(demo_database, DUPONT, "LUCAS", "garderie_soir", TUESDAY) == DayStatus.RESERVED
    late = await act(demo_database, structure, DUPONT, "LUCAS", "garderie_soir", TUESDAY, morning, what="cancel", accept_late=True)
    assert late.outcome == BookingOutcome.ABSENCE_PENDING and late.request_id is not None
    assert await status_of(demo_database, DUPONT, "LUCAS", "gouter", TUESDAY) == DayStatus.ABSENCE_PROCESSING
    async with demo_database.unit_of_work() as uow:
        await decide_request(uow, late.request_id, accept=False, staff_id=9, staff_name="Claire", now=morning, reason="Hors délai")
        await uow.commit()
    assert await status_of(demo_database, DUPONT, "LUCAS", "garderie_soir", TUESDAY) == DayStatus.ABSENT_BILLED


async def test_staff_accepting_a_booking_request_reserves_the_day(demo_database: Database, structure: Structure) -> None:
    early = dt.datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
    result = await act(demo_database, structure, DUPONT, "EMMA", "alsh_mercredi", WEDNESDAY, early)
    async with demo_database.unit_of_work() as uow:
        request = await uow.repos.requests.get(result.request_id)
        assert request.kind == RequestKind.BOOKING and request.status == RequestStatus.PENDING
        await decide_request(uow, result.request_id, accept=True, staff_id=9, staff_name="Claire", now=early)
        await uow.commit()
    assert await status_of(demo_database, DUPONT, "EMMA", "alsh_mercredi", WEDNESDAY) == DayStatus.RESERVED


async def test_full_day_waiting_list_gets_the_freed_place(demo_database: Database, structure: Structure) -> None:
    tight = with_capacity(structure, "cantine", 1)
    assert (await act(demo_database, tight, DUPONT, "LUCAS", "cantine", THURSDAY)).outcome == BookingOutcome.BOOKED
    full = await act(demo_database, tight, MARTIN, "CHLOÉ", "cantine", THURSDAY)
    assert full.outcome == BookingOutcome.REFUSED and full.decision.reason == Reason.FULL
    assert (await act(demo_database, tight, MARTIN, "CHLOÉ", "cantine", THURSDAY, what="wait")).outcome == BookingOutcome.WAITING_LIST
    assert (await act(demo_database, tight, MARTIN, "CHLOÉ", "cantine", THURSDAY, what="wait")).outcome == BookingOutcome.ALREADY
    freed = await act(demo_database, tight, DUPONT, "LUCAS", "cantine", THURSDAY, what="cancel")
    martin_id, _ = await _ids(demo_database, MARTIN, "CHLOÉ")
    assert freed.outcome == BookingOutcome.CANCELLED and freed.freed_for == (martin_id,)
    assert await status_of(demo_database, MARTIN, "CHLOÉ", "cantine", THURSDAY) == DayStatus.RESERVED


async def test_two_families_racing_for_the_last_place_one_wins(any_demo_database: Database, structure: Structure) -> None:
    tight = with_capacity(structure, "cantine", 1)
    results = await asyncio.gather(
        act(any_demo_database, tight, DUPONT, "LUCAS", "cantine", THURSDAY),
        act(any_demo_database, tight, MARTIN, "CHLOÉ", "cantine", THURSDAY),
    )
    assert sorted(r.outcome for r in results) == [BookingOutcome.BOOKED, BookingOutcome.REFUSED]
    statuses = [await status_of(any_demo_database, n, c, "cantine", THURSDAY) for n, c in ((DUPONT, "LUCAS"), (MARTIN, "CHLOÉ"))]
    assert statuses.count(DayStatus.RESERVED) == 1


async def test_another_familys_child_is_refused_and_audited(demo_database: Database) -> None:
    martin_id, _ = await _ids(demo_database, MARTIN, "CHLOÉ")
    _, lucas_id = await _ids(demo_database, DUPONT, "LUCAS")
    async with demo_database.unit_of_work() as uow:
        assert await bookings.owned_child(uow, martin_id, lucas_id, actor=666, now=NOW) is None
        await uow.commit()
    async with demo_database.unit_of_work() as uow:
        audit = await uow.repos.audit.entries(action=ACTION_OWNERSHIP_REFUSED)
    assert [(a.actor_telegram_id, a.outcome, a.target) for a in audit] == [(666, "refused", f"child:{lucas_id}")]


async def test_weekly_pattern_reports_every_day(demo_database: Database, structure: Structure) -> None:
    family_id, child_id = await _ids(demo_database, DUPONT, "LUCAS")
    cantine = await _service_id(demo_database, "cantine")
    async with demo_database.unit_of_work() as uow:
        planning = await bookings.load_planning(uow, structure, PARIS, dt.date(2026, 11, 1), dt.date(2027, 1, 31))
        child = await bookings.owned_child(uow, family_id, child_id, actor=1, now=NOW)
        last = bookings.next_holidays_start(planning, NOW.date())
        days = await bookings.book_pattern(uow, planning, family_id, child, [cantine], frozenset({0, 3}), NOW.date(), last, NOW, actor=1)
        await uow.commit()
    assert last == dt.date(2026, 12, 18)  # Friday before the Christmas holidays (zone C)
    booked = [d.day for d in days if d.result.outcome == BookingOutcome.BOOKED]
    refused = [d.day for d in days if d.result.outcome == BookingOutcome.REFUSED]
    assert refused == [dt.date(2026, 11, 23), dt.date(2026, 11, 26)]  # this week is closed
    assert booked == [dt.date(2026, 11, 30), dt.date(2026, 12, 3), dt.date(2026, 12, 7), dt.date(2026, 12, 10), dt.date(2026, 12, 14), dt.date(2026, 12, 17)]
