"""Holiday booking windows, set by staff: when parents may book a holiday period.

A window covers the days of a holiday period for each service booked by window (ALSH
vacances). It opens at 00:00 on its opening day and closes at 23:59 on its closing day, in the
structure's time zone. Setting the same period again replaces its dates. Both staff use
cases open their own transaction and write the staff audit row with their outcome; families
are told that a window opens by the reminder job, not here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.rules import InBookingWindow
from bot.services.staff_audit import audit_staff
from bot.services.use_case import use_case
from bot.structure import Structure
from storage.db import Database, UnitOfWork
from storage.models import BookingWindow

ACTION_SET_WINDOW = "staff.booking_window"
ACTION_LIST_WINDOWS = "staff.booking_windows"


class WindowOutcome(StrEnum):
    """What became of a window request."""

    SET = "set"
    BAD_DATES = "bad_dates"
    NO_SERVICE = "no_service"  # no service of the structure is booked by window


@dataclass(frozen=True)
class WindowResult:
    """The outcome and the services whose window was set."""

    outcome: WindowOutcome
    services: tuple[str, ...] = ()
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None


def windowed_services(structure: Structure) -> list[str]:
    """Codes of the services booked inside a staff window."""
    return [s.code for s in structure.services if isinstance(s.rules.booking, InBookingWindow)]


async def set_booking_window(
    db: Database,
    structure: Structure,
    tz: ZoneInfo,
    *,
    period_start: dt.date,
    period_end: dt.date,
    opens_on: dt.date,
    closes_on: dt.date,
    staff_id: int,
    now: dt.datetime,
) -> WindowResult:
    """Open bookings of a holiday period from `opens_on` to `closes_on` (both included); audited."""
    async with use_case(db) as uow:
        result = await _set_window(
            uow, structure, tz, period_start, period_end, opens_on, closes_on, staff_id
        )
        audit_staff(
            uow,
            staff_id,
            ACTION_SET_WINDOW,
            now=now,
            outcome="ok" if result.outcome == WindowOutcome.SET else "refused",
            target=f"{period_start.isoformat()}:{period_end.isoformat()}",
            details={"result": result.outcome.value},
        )
        return result


async def _set_window(
    uow: UnitOfWork,
    structure: Structure,
    tz: ZoneInfo,
    period_start: dt.date,
    period_end: dt.date,
    opens_on: dt.date,
    closes_on: dt.date,
    staff_id: int,
) -> WindowResult:
    if period_end < period_start or closes_on < opens_on or closes_on >= period_start:
        return WindowResult(WindowOutcome.BAD_DATES)
    codes = windowed_services(structure)
    if not codes:
        return WindowResult(WindowOutcome.NO_SERVICE)
    opens_at = dt.datetime.combine(opens_on, dt.time(0, 0), tzinfo=tz)
    closes_at = dt.datetime.combine(closes_on, dt.time(23, 59), tzinfo=tz)
    for code in codes:
        service = await uow.repos.structure.service_by_code(code)
        if service is None:
            continue
        window = await uow.repos.planning.booking_window(service.id, period_start)
        if window is None:
            window = BookingWindow(service_id=service.id, period_starts_on=period_start)
            uow.repos.planning.add_window(window)
        window.period_ends_on, window.opens_at, window.closes_at, window.created_by = (
            period_end,
            opens_at,
            closes_at,
            staff_id,
        )
    return WindowResult(WindowOutcome.SET, tuple(codes), opens_at, closes_at)


async def upcoming_windows(
    db: Database, today: dt.date, *, staff_id: int, now: dt.datetime
) -> Sequence[tuple[BookingWindow, str]]:
    """`/vacances` alone: windows of holiday periods not over yet, with their service's code."""
    async with use_case(db) as uow:
        windows = [
            (w, code)
            for w, code in await uow.repos.planning.booking_windows()
            if w.period_ends_on >= today
        ]
        audit_staff(uow, staff_id, ACTION_LIST_WINDOWS, now=now)
        return windows
