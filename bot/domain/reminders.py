"""When reminders are due: pure functions of the deadlines, the offsets and the instant.

A booking cutoff closes one or more days at once (the previous Friday 12:00 closes the whole
next week; a holiday window closes every day of the holidays): `deadline_groups` gathers the
days sharing a deadline, so a family gets one reminder per cutoff, not one per day. Each
reminder has a stable subject, the key that makes it sent once (with its kind and recipient).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.calendar import Calendar, SchoolCalendarUnavailableError
from bot.domain.rules import BookingWindow, RuledService, booking_deadline

DEFAULT_OFFSETS_HOURS: tuple[int, ...] = (24, 2)


class ReminderKind(StrEnum):
    """The kinds of reminders; parents may turn off the first four with /rappels."""

    BOOKING = "booking"  # a booking cutoff is coming and the child has nothing booked
    WINDOW_OPEN = "window_open"  # a holiday booking window has opened
    INVOICE = "invoice"  # an invoice's due date is near and it is unpaid
    VACCINE = "vaccine"  # a vaccination booster date is near
    HEADCOUNT = "headcount"  # staff: the final headcount at a cutoff
    DIGEST = "digest"  # staff: the morning digest of pending requests


PARENT_KINDS = (ReminderKind.BOOKING, ReminderKind.WINDOW_OPEN, ReminderKind.INVOICE, ReminderKind.VACCINE)


@dataclass(frozen=True)
class DeadlineGroup:
    """The days of one service that one cutoff closes."""

    service_code: str
    deadline: dt.datetime
    days: tuple[dt.date, ...]

    @property
    def first_day(self) -> dt.date:
        """The first day the cutoff closes."""
        return self.days[0]

    @property
    def last_day(self) -> dt.date:
        """The last day the cutoff closes."""
        return self.days[-1]

    def subject(self, offset_hours: int | None = None) -> str:
        """The reminder key of this cutoff (and of one offset before it)."""
        base = f"{self.service_code}:{self.deadline.astimezone(dt.timezone.utc):%Y%m%dT%H%M}"
        return base if offset_hours is None else f"{base}:{offset_hours}h"


def deadline_groups(
    service: RuledService,
    first: dt.date,
    last: dt.date,
    *,
    calendar: Calendar,
    windows: Iterable[BookingWindow] = (),
) -> list[DeadlineGroup]:
    """The service's days from `first` to `last`, grouped by the cutoff that closes them."""
    windows = tuple(windows)
    groups: dict[dt.datetime, list[dt.date]] = {}
    day = first
    while day <= last:
        try:
            deadline = booking_deadline(service, day, calendar=calendar, windows=windows)
        except SchoolCalendarUnavailableError:
            deadline = None
        if deadline is not None:
            groups.setdefault(deadline, []).append(day)
        day += dt.timedelta(days=1)
    return [DeadlineGroup(service.code, deadline, tuple(days)) for deadline, days in sorted(groups.items())]


def due_offset(deadline: dt.datetime, offsets_hours: Sequence[int], now: dt.datetime) -> int | None:
    """The reminder offset due at `now`, or None.

    An offset is due once its moment (deadline minus offset) has come and the deadline has not
    passed: a reminder is only useful before the cutoff. When several are due (the bot was down),
    only the one closest to the deadline is sent.
    """
    if now >= deadline:
        return None
    due = [hours for hours in offsets_hours if deadline - dt.timedelta(hours=hours) <= now]
    return min(due) if due else None


def headcount_due(deadline: dt.datetime, now: dt.datetime, grace: dt.timedelta) -> bool:
    """Staff get the final headcount once the cutoff has passed, within `grace` of it."""
    return deadline <= now < deadline + grace


def digest_due(now_local: dt.datetime, at: dt.time) -> bool:
    """The morning digest is due from `at` local time until the end of the day."""
    return now_local.time() >= at


def date_reminder_due(target: dt.date, today: dt.date, days_before: int) -> bool:
    """A date reminder (invoice due date, booster) is due in the `days_before` days up to it."""
    return target - dt.timedelta(days=days_before) <= today <= target
