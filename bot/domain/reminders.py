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


PARENT_KINDS = (
    ReminderKind.BOOKING,
    ReminderKind.WINDOW_OPEN,
    ReminderKind.INVOICE,
    ReminderKind.VACCINE,
)


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
        base = f"{self.service_code}:{self.deadline.astimezone(dt.UTC):%Y%m%dT%H%M}"
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
    return [
        DeadlineGroup(service.code, deadline, tuple(days))
        for deadline, days in sorted(groups.items())
    ]


def due_offset(
    deadline: dt.datetime,
    offsets_hours: Sequence[int],
    now: dt.datetime,
    *,
    daytime: Daytime | None = None,
    tz: dt.tzinfo | None = None,
) -> int | None:
    """The reminder offset due at `now`, or None.

    An offset is due once its moment (deadline minus offset) has come and the deadline has not
    passed: a reminder is only useful before the cutoff. When several are due (the bot was down),
    only the one closest to the deadline is sent. With a `daytime`, a moment at night moves to
    the next morning, or to the evening before when the cutoff comes first (`reminder_moment`).
    """
    if now >= deadline:
        return None

    def moment(hours: int) -> dt.datetime:
        at = deadline - dt.timedelta(hours=hours)
        return at if daytime is None or tz is None else reminder_moment(at, deadline, daytime, tz)

    due = [hours for hours in offsets_hours if moment(hours) <= now]
    return min(due) if due else None


def headcount_due(deadline: dt.datetime, now: dt.datetime, grace: dt.timedelta) -> bool:
    """Staff get the final headcount once the cutoff has passed, within `grace` of it."""
    return deadline <= now < deadline + grace


def digest_due(now_local: dt.datetime, at: dt.time, until: dt.time = dt.time.max) -> bool:
    """The morning digest is due from `at` local time until `until` (the end of the daytime:
    a digest missed that day is not sent at night, the next morning's replaces it)."""
    return at <= now_local.time() <= until


def date_reminder_due(target: dt.date, today: dt.date, days_before: int) -> bool:
    """A date reminder (invoice due date, booster) is due in the `days_before` days up to it."""
    return target - dt.timedelta(days=days_before) <= today <= target


# --- Daytime: messages that are not urgent wait for decent hours ----------------------------


@dataclass(frozen=True)
class Daytime:
    """The hours at which messages that are not urgent may go out (local time, both ends included)."""

    start: dt.time = dt.time(8, 0)
    end: dt.time = dt.time(20, 0)

    def contains(self, instant: dt.datetime, tz: dt.tzinfo) -> bool:
        """Whether `instant` falls within the window, on the structure's clock."""
        local = instant.astimezone(tz).time()
        return self.start <= local <= self.end


def next_daytime(instant: dt.datetime, daytime: Daytime, tz: dt.tzinfo) -> dt.datetime:
    """`instant` itself within the window, else the next opening of the window (the same
    morning before it, the next morning after it), on the local clock whatever the DST."""
    if daytime.contains(instant, tz):
        return instant
    local = instant.astimezone(tz)
    day = local.date() if local.time() < daytime.start else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, daytime.start, tzinfo=tz)


def previous_daytime(instant: dt.datetime, daytime: Daytime, tz: dt.tzinfo) -> dt.datetime:
    """`instant` itself within the window, else the last instant of the window before it (the
    same evening after it, the evening before when it is before the morning)."""
    if daytime.contains(instant, tz):
        return instant
    local = instant.astimezone(tz)
    day = local.date() if local.time() > daytime.end else local.date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, daytime.end, tzinfo=tz)


def reminder_moment(
    moment: dt.datetime, deadline: dt.datetime, daytime: Daytime, tz: dt.tzinfo
) -> dt.datetime:
    """When a reminder meant for `moment` goes out: at `moment` in the daytime; at night, the
    next morning when that is still before the cutoff, else the evening before."""
    later = next_daytime(moment, daytime, tz)
    if later < deadline:
        return later
    return previous_daytime(moment, daytime, tz)


def deferred_until(
    now: dt.datetime, expires_at: dt.datetime | None, daytime: Daytime, tz: dt.tzinfo
) -> dt.datetime:
    """When a message that is not urgent, due at `now`, may go out: the next daytime instant,
    unless that would be after the message is useful (then now: late is better than never)."""
    later = next_daytime(now, daytime, tz)
    if expires_at is not None and later >= expires_at:
        return now
    return later


# --- One reminder per family and cutoff --------------------------------------------------------


@dataclass(frozen=True)
class ReminderLine:
    """One service of a reminder: the children with nothing booked on the days the cutoff closes.
    `along` are the services booked with it that need no line of their own (the goûter)."""

    service_code: str
    days: tuple[dt.date, ...]
    children: tuple[tuple[int, str], ...]
    along: tuple[str, ...] = ()


def fold_companions(
    lines: Sequence[ReminderLine], requires: dict[str, frozenset[str]], order: Sequence[str]
) -> list[ReminderLine]:
    """Lines in the structure's order, each service booked together with an earlier one
    (`requires`, e.g. the goûter of the garderie du soir) folded into it for the children both
    lines name; what is left of a folded line keeps its own."""
    rank = {code: i for i, code in enumerate(order)}
    result: list[ReminderLine] = []
    for line in sorted(lines, key=lambda each: rank.get(each.service_code, len(rank))):
        children = line.children
        for i, kept in enumerate(result):
            if line.service_code in requires.get(kept.service_code, frozenset()) and set(
                line.days
            ) <= set(kept.days):
                shared = tuple(c for c in children if c in kept.children)
                if shared:
                    result[i] = ReminderLine(
                        kept.service_code,
                        kept.days,
                        kept.children,
                        (*kept.along, line.service_code),
                    )
                    children = tuple(c for c in children if c not in shared)
        if children:
            result.append(ReminderLine(line.service_code, line.days, children, line.along))
    return result
