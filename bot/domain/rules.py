"""The booking rules of the structure's services, read from configuration.

Each service of the structure YAML states its rules under ``rules:`` (see
``bot/demo/structure.yaml``); :func:`parse_service_rules` turns that mapping into a
:class:`ServiceRules`, or raises :class:`StructureConfigError` naming the faulty path.

Given a service, a day and an aware instant, :func:`can_book`, :func:`can_cancel` and
:func:`can_declare_absence` answer with a :class:`Decision`: accepted at once, pending for staff,
or refused with a :class:`Reason`; with the deadline that applied and, for a late cancellation or
absence, its :class:`Consequence`. The rules of the seed portal ("Les conditions pour réserver et
annuler") are all kinds of deadline:

* book the day before, before the accueil closes → :class:`PreviousServiceDay`;
* cancel the evening garderie before 09:00 that morning → :class:`SameDay`;
* cancel a morning before closing on the previous day the service runs (Monday → Friday,
  Thursday → Tuesday when there is no school on Wednesday) → :class:`PreviousServiceDay`;
* Wednesday ALSH: before 10:00 on the Monday of that week → :class:`SameWeekDay`;
* a whole week closes on the previous Friday at 12:00 → :class:`PreviousWeekDay`;
* holiday ALSH: book inside a staff window → :class:`InBookingWindow` (windows are data:
  :class:`BookingWindow`); cancel 7 days before the first day of attendance →
  :class:`DaysBeforeFirstAttendance`; at least N days a week → :func:`check_min_per_week`,
  a week left below it refused or sent to staff flagged (:class:`BelowMinimum`).

A deadline is met when the instant is strictly before it, and is never later than the start of
the service that day. Instants are compared in UTC, so they are correct across DST changes.
The module is pure: the instant is always passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum, StrEnum
from typing import Any, Final, Protocol, TypeVar

from bot.domain.calendar import WEEKDAY_CODES, Calendar, Period, ServiceSchedule, local_instant

__all__ = [
    "DEFAULT_MAX_DAYS_BACK",
    "Approval",
    "BelowMinimum",
    "BookingDeadline",
    "BookingWindow",
    "Consequence",
    "DaysBeforeFirstAttendance",
    "Deadline",
    "Decision",
    "FirstAttendance",
    "InBookingWindow",
    "LatePolicy",
    "Outcome",
    "PreviousServiceDay",
    "PreviousWeekDay",
    "Reason",
    "RuledService",
    "SameDay",
    "SameWeekDay",
    "Service",
    "ServiceRules",
    "StructureConfigError",
    "WeekShortfall",
    "booked_with",
    "booking_deadline",
    "calendar_reach",
    "can_book",
    "can_cancel",
    "can_declare_absence",
    "cancellation_deadline",
    "cancelled_with",
    "check_min_per_week",
    "check_requires",
    "parse_service_rules",
]


DEFAULT_MAX_DAYS_BACK: Final = 4
"""How far back :class:`PreviousServiceDay` looks for the previous open day, unless configured."""


class StructureConfigError(ValueError):
    """The structure configuration is invalid; the message names the faulty path."""


class Approval(StrEnum):
    """Whether a request within the rules is accepted at once or waits for staff."""

    AUTO = "auto"
    STAFF = "staff"


class LatePolicy(StrEnum):
    """What happens to a cancellation or absence declared after the deadline."""

    BILLED = "billed"
    """Accepted, but the day is "absent facturé" unless staff excuse it."""
    REFUSED = "refused"
    """Refused: the parent must contact the structure."""


class FirstAttendance(StrEnum):
    """Which "first day of attendance" :class:`DaysBeforeFirstAttendance` counts from."""

    CHILD = "child"
    """The child's first booked day of the service in that holiday period."""
    PERIOD = "period"
    """The first day the service runs in that holiday period."""


class BelowMinimum(StrEnum):
    """What happens to a booking or cancellation leaving a week below ``min_per_week``."""

    REFUSE = "refuse"
    """Refused: the parent books (or keeps) enough days of that week at once."""
    FLAG = "flag"
    """Goes through, sent to staff flagged (a booking waits for staff; a cancellation is told)."""


class Outcome(StrEnum):
    """The answer to a parent's request."""

    ACCEPTED = "accepted"
    PENDING = "pending"
    """Within the rules, waiting for staff ("demande en attente")."""
    REFUSED = "refused"


class Consequence(StrEnum):
    """What an accepted cancellation or absence entails."""

    NONE = "none"
    BILLED_UNLESS_EXCUSED = "billed_unless_excused"
    """Late: the day becomes "absent facturé" unless staff excuse it."""


class Reason(StrEnum):
    """Why a request is refused (the UI translates the code)."""

    CLOSURE = "closure"
    PUBLIC_HOLIDAY = "public_holiday"
    SCHOOL_HOLIDAYS = "school_holidays"
    SCHOOL_TERM = "school_term"
    WEEKDAY = "weekday"
    TOO_LATE = "too_late"
    FULL = "full"
    NO_BOOKING_WINDOW = "no_booking_window"
    BOOKING_WINDOW_NOT_OPEN = "booking_window_not_open"
    BOOKING_WINDOW_CLOSED = "booking_window_closed"
    SERVICE_STARTED = "service_started"
    """A cancellation once the service has started that day."""
    SERVICE_OVER = "service_over"
    """An absence once the service has ended that day."""
    BELOW_WEEKLY_MINIMUM = "below_weekly_minimum"
    """The week would have fewer days than ``min_per_week`` requires (``below: refuse``)."""


@dataclass(frozen=True)
class PreviousServiceDay:
    """Before ``at`` on the previous day the service runs (Monday → Friday).

    "La veille, avant la fermeture de l'accueil" means the last open day when it is near: the
    service must have run within ``max_days_back`` days (default
    :data:`DEFAULT_MAX_DAYS_BACK`: Monday → Friday, Thursday → Tuesday, Monday after a Friday
    public holiday → Thursday). Otherwise (the first day after the holidays, after a long
    closure) the deadline falls on the calendar day before, never back across the holidays.
    """

    at: time
    max_days_back: int = DEFAULT_MAX_DAYS_BACK


@dataclass(frozen=True)
class SameDay:
    """Before ``at`` on the day itself (evening garderie: before 09:00 that morning)."""

    at: time


@dataclass(frozen=True)
class SameWeekDay:
    """Before ``at`` on ``weekday`` (0 = Monday) of the same week (Wednesday ALSH: Monday)."""

    weekday: int
    at: time


@dataclass(frozen=True)
class PreviousWeekDay:
    """Before ``at`` on ``weekday`` (0 = Monday) of the previous week (Friday 12:00)."""

    weekday: int
    at: time


@dataclass(frozen=True)
class DaysBeforeFirstAttendance:
    """Before ``at``, ``days`` days before the first day of attendance in the holiday period.

    Outside school holidays, the first day of attendance is the day itself.
    """

    days: int
    at: time
    counted_from: FirstAttendance = FirstAttendance.CHILD


@dataclass(frozen=True)
class InBookingWindow:
    """Booking only while a staff-set :class:`BookingWindow` covering the day is open."""


Deadline = PreviousServiceDay | SameDay | SameWeekDay | PreviousWeekDay | DaysBeforeFirstAttendance
"""A deadline computed from the day and the calendar."""

BookingDeadline = Deadline | InBookingWindow
"""What closes bookings: a deadline, or a staff booking window."""


@dataclass(frozen=True)
class BookingWindow:
    """Staff data: bookings of ``service_code`` for days of a holiday period, and when."""

    service_code: str
    period_start: date
    period_end: date
    opens_at: datetime
    closes_at: datetime

    def __post_init__(self) -> None:
        if self.opens_at.utcoffset() is None or self.closes_at.utcoffset() is None:
            raise ValueError("booking window instants must be aware datetimes")
        if not _is_before(self.opens_at, self.closes_at) or self.period_end < self.period_start:
            raise ValueError("a booking window must open before it closes, on a non-empty period")

    def covers(self, service_code: str, day: date) -> bool:
        """Whether this window is the one for booking ``service_code`` on ``day``."""
        return service_code == self.service_code and self.period_start <= day <= self.period_end


@dataclass(frozen=True)
class ServiceRules:
    """The rules of one service, as stated under ``rules:`` in the structure YAML."""

    schedule: ServiceSchedule
    starts: time
    ends: time
    approval: Approval
    booking: BookingDeadline
    cancellation: Deadline
    """The deadline of cancellations and absence declarations alike."""
    late: LatePolicy
    closes: time | None = None
    """When the accueil closes (deadlines may say ``at: closing``)."""
    capacity: int | None = None
    requires: frozenset[str] = frozenset()
    """Services never booked without this one's being booked too (goûter with garderie)."""
    min_per_week: int | None = None
    """At least this many days a week (weeks without any day are not counted)."""
    below_minimum: BelowMinimum = BelowMinimum.FLAG
    """What a booking or cancellation leaving a week below the minimum gets."""


class RuledService(Protocol):
    """Anything naming a service and its rules (:class:`Service`, the structure's config)."""

    @property
    def code(self) -> str:
        """The service's code in the structure file."""
        ...

    @property
    def rules(self) -> ServiceRules:
        """The service's rules."""
        ...


@dataclass(frozen=True)
class Service:
    """A service of the structure: its code and its rules."""

    code: str
    rules: ServiceRules


@dataclass(frozen=True)
class Decision:
    """The answer to a booking, cancellation or absence request."""

    outcome: Outcome
    reason: Reason | None = None
    """Why it is refused; None when it is not."""
    deadline: datetime | None = None
    """The deadline that applied (aware, in the structure's time zone), when there is one."""
    opens_at: datetime | None = None
    """When the booking window opens, for windowed bookings."""
    consequence: Consequence = Consequence.NONE

    @property
    def allowed(self) -> bool:
        """Whether the request goes through (at once or pending for staff)."""
        return self.outcome is not Outcome.REFUSED


@dataclass(frozen=True)
class WeekShortfall:
    """A week (starting on ``week_start``, a Monday) with fewer days than required."""

    week_start: date
    booked: int
    required: int


@dataclass(frozen=True)
class _Situation:
    service: RuledService
    day: date
    calendar: Calendar
    child_days: frozenset[date] = field(default_factory=frozenset)

    @property
    def rules(self) -> ServiceRules:
        return self.service.rules

    def instant(self, at: time, day: date | None = None) -> datetime:
        return local_instant(self.day if day is None else day, at, self.calendar.tz)


_OUTCOMES: Final = {Approval.AUTO: Outcome.ACCEPTED, Approval.STAFF: Outcome.PENDING}


# --- decisions -------------------------------------------------------------------------------


def booking_deadline(
    service: RuledService, day: date, *, calendar: Calendar, windows: Iterable[BookingWindow] = ()
) -> datetime | None:
    """When booking ``service`` on ``day`` closes; None if it does not run or has no window."""
    if calendar.why_not_running(service.code, service.rules.schedule, day) is not None:
        return None
    situation = _Situation(service, day, calendar)
    booking = service.rules.booking
    if isinstance(booking, InBookingWindow):
        closing = [w.closes_at for w in windows if w.covers(service.code, day)]
        return _not_after_start(max(closing), situation) if closing else None
    return _deadline(booking, situation)


def cancellation_deadline(
    service: RuledService, day: date, *, calendar: Calendar, child_days: Collection[date] = ()
) -> datetime:
    """When cancelling ``service`` on ``day`` stops being free of charge.

    ``child_days`` are the child's booked days of this service (for "first day of attendance").
    """
    situation = _Situation(service, day, calendar, frozenset(child_days))
    return _deadline(service.rules.cancellation, situation)


def can_book(
    service: RuledService,
    day: date,
    now: datetime,
    *,
    calendar: Calendar,
    windows: Iterable[BookingWindow] = (),
    booked_count: int = 0,
) -> Decision:
    """May a parent book ``service`` on ``day`` at instant ``now``?

    ``booked_count`` is the number of places already taken that day (capacity check);
    ``windows`` the staff booking windows, for services booked in a window.
    """
    _require_aware(now)
    situation = _Situation(service, day, calendar)
    refusal = _refuse_if_not_running(situation)
    if refusal is not None:
        return refusal
    booking = service.rules.booking
    if isinstance(booking, InBookingWindow):
        return _book_in_window(situation, now, tuple(windows), booked_count)
    deadline = _deadline(booking, situation)
    if not _is_before(now, deadline):
        return _refused(Reason.TOO_LATE, deadline)
    return _accept_booking(situation, deadline, booked_count)


def can_cancel(
    service: RuledService,
    day: date,
    now: datetime,
    *,
    calendar: Calendar,
    child_days: Collection[date] = (),
) -> Decision:
    """May a parent cancel the booking of ``service`` on ``day`` at ``now``, and at what cost?

    Possible until the service starts; after the deadline, per the service's late policy.
    """
    situation = _Situation(service, day, calendar, frozenset(child_days))
    return _withdraw(situation, now, until=service.rules.starts, over=Reason.SERVICE_STARTED)


def can_declare_absence(
    service: RuledService,
    day: date,
    now: datetime,
    *,
    calendar: Calendar,
    child_days: Collection[date] = (),
) -> Decision:
    """May a parent declare the child absent from ``service`` on ``day`` at ``now``?

    Same deadline and late policy as a cancellation, but possible until the service ends
    (a child who falls ill during the day).
    """
    situation = _Situation(service, day, calendar, frozenset(child_days))
    return _withdraw(situation, now, until=service.rules.ends, over=Reason.SERVICE_OVER)


def check_min_per_week(
    service: RuledService, days: Iterable[date], *, calendar: Calendar
) -> tuple[WeekShortfall, ...]:
    """The weeks of ``days`` (all the days the child would attend) below the weekly minimum.

    Weeks without any day are not counted; a week where the service runs fewer days than the
    minimum requires them all.
    """
    minimum = service.rules.min_per_week
    if minimum is None:
        return ()
    schedule = service.rules.schedule
    weeks: dict[date, set[date]] = {}
    for day in days:
        if calendar.runs(service.code, schedule, day):
            weeks.setdefault(_monday(day), set()).add(day)
    shortfalls = []
    for monday in sorted(weeks):
        offered = calendar.service_days(service.code, schedule, monday, monday + timedelta(days=6))
        required = min(minimum, len(offered))
        if len(weeks[monday]) < required:
            shortfalls.append(WeekShortfall(monday, len(weeks[monday]), required))
    return tuple(shortfalls)


_LONGEST_HOLIDAYS: Final = 70
"""More days than the longest school-holiday period (summer), for "first day of attendance"."""


def calendar_reach(rules: ServiceRules) -> tuple[int, int]:
    """How many days before and after a day the decisions about it read the calendar.

    A deadline on the previous open day looks back ``max_days_back`` days; one on the previous
    week up to 13; a "first day of attendance" a whole holiday period; the weekly minimum reads
    the week. Closures must be known over this reach for every screen to see the same deadline.
    """
    back, forward = 6, 6
    for deadline in (rules.booking, rules.cancellation):
        match deadline:
            case PreviousServiceDay(max_days_back=days):
                back = max(back, days)
            case PreviousWeekDay():
                back = max(back, 13)
            case DaysBeforeFirstAttendance(days=days):
                back = max(back, days + _LONGEST_HOLIDAYS)
                forward = max(forward, _LONGEST_HOLIDAYS)
    return back, forward


def booked_with(code: str, rules_by_code: Mapping[str, ServiceRules]) -> frozenset[str]:
    """The other services booked together with ``code`` (what it requires, transitively)."""
    return _reachable(code, lambda c: rules_by_code[c].requires)


def cancelled_with(code: str, rules_by_code: Mapping[str, ServiceRules]) -> frozenset[str]:
    """The other services cancelled together with ``code`` (those requiring it, transitively)."""
    return _reachable(
        code, lambda c: frozenset(o for o, r in rules_by_code.items() if c in r.requires)
    )


def _reachable(code: str, neighbours: Callable[[str], frozenset[str]]) -> frozenset[str]:
    seen: set[str] = set()
    todo = [code]
    while todo:
        for other in neighbours(todo.pop()):
            if other != code and other not in seen:
                seen.add(other)
                todo.append(other)
    return frozenset(seen)


def _refuse_if_not_running(situation: _Situation) -> Decision | None:
    service = situation.service
    why = situation.calendar.why_not_running(service.code, service.rules.schedule, situation.day)
    return None if why is None else _refused(Reason[why.name])


def _book_in_window(
    situation: _Situation, now: datetime, windows: tuple[BookingWindow, ...], booked_count: int
) -> Decision:
    window = _pick_window(situation, now, windows)
    if window is None:
        return _refused(Reason.NO_BOOKING_WINDOW)
    closes = _not_after_start(window.closes_at, situation)
    if _is_before(now, window.opens_at):
        return _refused(Reason.BOOKING_WINDOW_NOT_OPEN, closes, window.opens_at)
    if not _is_before(now, closes):
        return _refused(Reason.BOOKING_WINDOW_CLOSED, closes, window.opens_at)
    return _accept_booking(situation, closes, booked_count, window.opens_at)


def _pick_window(
    situation: _Situation, now: datetime, windows: tuple[BookingWindow, ...]
) -> BookingWindow | None:
    """The open window for the day, else the next one to open, else the last one closed."""
    matching = [w for w in windows if w.covers(situation.service.code, situation.day)]
    not_closed = [w for w in matching if _is_before(now, w.closes_at)]
    if not_closed:
        return min(not_closed, key=lambda w: w.opens_at.astimezone(UTC))
    return max(matching, key=lambda w: w.closes_at.astimezone(UTC), default=None)


def _accept_booking(
    situation: _Situation, deadline: datetime, booked_count: int, opens_at: datetime | None = None
) -> Decision:
    capacity = situation.rules.capacity
    if capacity is not None and booked_count >= capacity:
        return _refused(Reason.FULL, deadline, opens_at)
    return Decision(_OUTCOMES[situation.rules.approval], deadline=deadline, opens_at=opens_at)


def _withdraw(situation: _Situation, now: datetime, *, until: time, over: Reason) -> Decision:
    """A cancellation or an absence: the same deadline, open until ``until`` that day."""
    _require_aware(now)
    refusal = _refuse_if_not_running(situation)
    if refusal is not None:
        return refusal
    rules = situation.rules
    deadline = _deadline(rules.cancellation, situation)
    if not _is_before(now, situation.instant(until)):
        return _refused(over, deadline)
    if _is_before(now, deadline):
        return Decision(_OUTCOMES[rules.approval], deadline=deadline)
    if rules.late is LatePolicy.REFUSED:
        return _refused(Reason.TOO_LATE, deadline)
    return Decision(
        _OUTCOMES[rules.approval], deadline=deadline, consequence=Consequence.BILLED_UNLESS_EXCUSED
    )


def _refused(
    reason: Reason, deadline: datetime | None = None, opens_at: datetime | None = None
) -> Decision:
    return Decision(Outcome.REFUSED, reason=reason, deadline=deadline, opens_at=opens_at)


# --- deadlines -------------------------------------------------------------------------------


def _deadline(deadline: Deadline, situation: _Situation) -> datetime:
    """The deadline's instant, never later than the start of the service that day."""
    instant = situation.instant(deadline.at, _reference_day(deadline, situation))
    return _not_after_start(instant, situation)


def _reference_day(deadline: Deadline, situation: _Situation) -> date:
    """The day on which the deadline falls (at ``deadline.at``)."""
    day = situation.day
    match deadline:
        case SameDay():
            return day
        case SameWeekDay(weekday=weekday):
            return _monday(day) + timedelta(days=weekday)
        case PreviousWeekDay(weekday=weekday):
            return _monday(day) + timedelta(days=weekday - 7)
        case PreviousServiceDay(max_days_back=max_days_back):
            previous = situation.calendar.previous_service_day(
                situation.service.code,
                situation.rules.schedule,
                day,
                max_days_back=max_days_back,
            )
            return previous or day - timedelta(days=1)
        case DaysBeforeFirstAttendance(days=days, counted_from=counted_from):
            return _first_attendance(situation, counted_from) - timedelta(days=days)
    raise TypeError(f"unknown deadline {deadline!r}")


def _first_attendance(situation: _Situation, counted_from: FirstAttendance) -> date:
    day, calendar = situation.day, situation.calendar
    period = calendar.school_holidays(day)
    if period is None:
        return day
    if counted_from is FirstAttendance.PERIOD:
        first = calendar.first_attendance_day(situation.service.code, situation.rules.schedule, day)
        return min(first or day, day)
    return min([day, *(d for d in situation.child_days if d in period)])


def _not_after_start(instant: datetime, situation: _Situation) -> datetime:
    starts = situation.instant(situation.rules.starts)
    return instant.astimezone(situation.calendar.tz) if _is_before(instant, starts) else starts


def _is_before(first: datetime, second: datetime) -> bool:
    """Compare two aware instants in UTC (a same-zone comparison would ignore DST folds)."""
    return first.astimezone(UTC) < second.astimezone(UTC)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _require_aware(now: datetime) -> None:
    if now.utcoffset() is None:
        raise ValueError("the instant must be an aware datetime")


# --- configuration ---------------------------------------------------------------------------

_RULES_REQUIRED: Final = frozenset(
    {"weekdays", "runs_in", "starts", "ends", "approval", "booking", "cancellation"}
)
_RULES_OPTIONAL: Final = frozenset({"closes", "capacity", "requires", "min_per_week"})
_DEADLINE_KEYS: Final[Mapping[str, tuple[frozenset[str], frozenset[str]]]] = {
    "previous_service_day": (frozenset({"at"}), frozenset({"max_days_back"})),
    "same_day": (frozenset({"at"}), frozenset()),
    "same_week_day": (frozenset({"weekday", "at"}), frozenset()),
    "previous_week_day": (frozenset({"weekday", "at"}), frozenset()),
    "days_before_first_attendance": (frozenset({"days", "at"}), frozenset({"counted_from"})),
    "booking_window": (frozenset(), frozenset()),
}
_TIME_PATTERN: Final = re.compile(r"(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)")
_E = TypeVar("_E", bound=Enum)


def parse_service_rules(raw: Mapping[str, Any], *, where: str) -> ServiceRules:
    """Validate one service's ``rules:`` mapping found at path ``where``.

    Raises :class:`StructureConfigError` naming the faulty path, e.g.
    ``services[2].rules.booking.deadline.at: 25:00 is not a time HH:MM``.
    """
    raw = _mapping(raw, where)
    _check_keys(raw, where, _RULES_REQUIRED, _RULES_OPTIONAL)
    starts = _time(raw["starts"], f"{where}.starts")
    ends = _time(raw["ends"], f"{where}.ends")
    if ends <= starts:
        raise StructureConfigError(f"{where}.ends: {ends:%H:%M} is not after starts {starts:%H:%M}")
    closes = _optional(raw, "closes", where, _time)
    booking_raw = _block(raw["booking"], f"{where}.booking", frozenset())
    cancellation_raw = _block(raw["cancellation"], f"{where}.cancellation", frozenset({"late"}))
    minimum = _optional(raw, "min_per_week", where, _min_per_week)
    rules = ServiceRules(
        schedule=ServiceSchedule(
            weekdays=_weekdays(raw["weekdays"], f"{where}.weekdays"),
            periods=frozenset(_enum_list(Period, raw["runs_in"], f"{where}.runs_in")),
        ),
        starts=starts,
        ends=ends,
        approval=_enum(Approval, raw["approval"], f"{where}.approval"),
        booking=_parse_deadline(booking_raw["deadline"], f"{where}.booking.deadline", closes),
        cancellation=_cancellation_deadline(cancellation_raw, f"{where}.cancellation", closes),
        late=_enum(LatePolicy, cancellation_raw["late"], f"{where}.cancellation.late"),
        closes=closes,
        capacity=_optional(raw, "capacity", where, _positive_int),
        requires=frozenset(_optional(raw, "requires", where, _strings) or ()),
        min_per_week=minimum[0] if minimum else None,
        below_minimum=minimum[1] if minimum else BelowMinimum.FLAG,
    )
    _check_not_after_start(rules.booking, rules, f"{where}.booking.deadline")
    _check_not_after_start(rules.cancellation, rules, f"{where}.cancellation.deadline")
    return rules


def check_requires(rules_by_code: Mapping[str, ServiceRules], *, where: str = "services") -> None:
    """Check every ``requires`` names another configured service (in file order at ``where``)."""
    for index, (code, rules) in enumerate(rules_by_code.items()):
        for required in sorted(rules.requires):
            if required not in rules_by_code or required == code:
                raise StructureConfigError(
                    f"{where}[{index}].rules.requires: {required} is not another service's code"
                )


def _block(raw: Any, where: str, extra_keys: frozenset[str]) -> Mapping[str, Any]:
    block = _mapping(raw, where)
    _check_keys(block, where, frozenset({"deadline"}) | extra_keys, frozenset())
    return block


def _cancellation_deadline(raw: Mapping[str, Any], where: str, closes: time | None) -> Deadline:
    deadline = _parse_deadline(raw["deadline"], f"{where}.deadline", closes)
    if isinstance(deadline, InBookingWindow):
        raise StructureConfigError(f"{where}.deadline.kind: booking_window is for booking only")
    return deadline


def _parse_deadline(raw: Any, where: str, closes: time | None) -> BookingDeadline:
    raw = _mapping(raw, where)
    kind = raw.get("kind")
    if kind not in _DEADLINE_KEYS:
        raise StructureConfigError(
            f"{where}.kind: {kind} is not one of {', '.join(_DEADLINE_KEYS)}"
        )
    required, optional = _DEADLINE_KEYS[kind]
    _check_keys(raw, where, required | {"kind"}, optional)

    def at() -> time:
        return _at(raw["at"], f"{where}.at", closes)

    def weekday() -> int:
        return _weekday(raw["weekday"], f"{where}.weekday")

    match kind:
        case "previous_service_day":
            max_days_back = _optional(raw, "max_days_back", where, _positive_int)
            return PreviousServiceDay(at(), max_days_back or DEFAULT_MAX_DAYS_BACK)
        case "same_day":
            return SameDay(at())
        case "same_week_day":
            return SameWeekDay(weekday(), at())
        case "previous_week_day":
            return PreviousWeekDay(weekday(), at())
        case "days_before_first_attendance":
            counted_from = _optional(
                raw, "counted_from", where, lambda value, path: _enum(FirstAttendance, value, path)
            )
            days = _positive_int(raw["days"], f"{where}.days")
            return DaysBeforeFirstAttendance(days, at(), counted_from or FirstAttendance.CHILD)
    return InBookingWindow()


def _check_not_after_start(deadline: BookingDeadline, rules: ServiceRules, where: str) -> None:
    """Reject a same-day or same-week deadline that would fall after the service starts."""
    starts = rules.starts
    match deadline:
        case SameDay(at=at) if at > starts:
            raise StructureConfigError(
                f"{where}.at: {at:%H:%M} is after the service starts ({starts:%H:%M})"
            )
        case SameWeekDay(weekday=weekday, at=at):
            late = sorted(
                d for d in rules.schedule.weekdays if d < weekday or (d == weekday and at > starts)
            )
            if late:
                raise StructureConfigError(
                    f"{where}.weekday: {WEEKDAY_CODES[weekday]} {at:%H:%M} is after the service "
                    f"starts on {WEEKDAY_CODES[late[0]]}"
                )


def _check_keys(
    raw: Mapping[str, Any], where: str, required: frozenset[str], optional: frozenset[str]
) -> None:
    missing = sorted(required - raw.keys())
    if missing:
        raise StructureConfigError(f"{where}.{missing[0]}: missing")
    unknown = [key for key in raw if key not in required | optional]
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise StructureConfigError(
            f"{where}.{unknown[0]}: unknown key (expected one of: {allowed})"
        )


def _optional(
    raw: Mapping[str, Any], key: str, where: str, parse: Callable[[Any, str], Any]
) -> Any:
    return parse(raw[key], f"{where}.{key}") if key in raw else None


def _mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        found = "nothing" if raw is None else type(raw).__name__
        raise StructureConfigError(f"{where}: expected a mapping, found {found}")
    return raw


def _list(raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, list) or not raw:
        raise StructureConfigError(f"{where}: expected a non-empty list, found {raw}")
    return raw


def _string(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise StructureConfigError(f"{where}: expected a non-empty text, found {raw}")
    return raw


def _strings(raw: Any, where: str) -> list[str]:
    return [_string(item, f"{where}[{i}]") for i, item in enumerate(_list(raw, where))]


def _time(raw: Any, where: str) -> time:
    match = _TIME_PATTERN.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        hint = ' (write it between quotes, e.g. "18:30")' if isinstance(raw, int) else ""
        raise StructureConfigError(f"{where}: {raw} is not a time HH:MM{hint}")
    return time(int(match["hour"]), int(match["minute"]))


def _at(raw: Any, where: str, closes: time | None) -> time:
    if raw != "closing":
        return _time(raw, where)
    if closes is None:
        raise StructureConfigError(
            f"{where}: closing needs the service's closes time (rules.closes)"
        )
    return closes


def _int(raw: Any, where: str, minimum: int, maximum: int | None = None) -> int:
    in_range = isinstance(raw, int) and not isinstance(raw, bool) and raw >= minimum
    if not in_range or (maximum is not None and raw > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise StructureConfigError(f"{where}: {raw} is not a whole number {bounds}")
    return int(raw)


def _positive_int(raw: Any, where: str) -> int:
    return _int(raw, where, minimum=1)


def _days_per_week(raw: Any, where: str) -> int:
    return _int(raw, where, minimum=1, maximum=7)


def _min_per_week(raw: Any, where: str) -> tuple[int, BelowMinimum]:
    """``min_per_week: {count: 2, below: refuse|flag}``; a bare number means ``below: flag``."""
    if not isinstance(raw, Mapping):
        return _days_per_week(raw, where), BelowMinimum.FLAG
    _check_keys(raw, where, frozenset({"count", "below"}), frozenset())
    return _days_per_week(raw["count"], f"{where}.count"), _enum(
        BelowMinimum, raw["below"], f"{where}.below"
    )


def _weekday(raw: Any, where: str) -> int:
    if raw not in WEEKDAY_CODES:
        raise StructureConfigError(f"{where}: {raw} is not a weekday ({', '.join(WEEKDAY_CODES)})")
    return WEEKDAY_CODES.index(raw)


def _weekdays(raw: Any, where: str) -> frozenset[int]:
    days = [_weekday(item, f"{where}[{i}]") for i, item in enumerate(_list(raw, where))]
    if len(set(days)) != len(days):
        raise StructureConfigError(f"{where}: a weekday is listed twice")
    return frozenset(days)


def _enum(kind: type[_E], raw: Any, where: str) -> _E:
    for member in kind:
        if member.value == raw:
            return member
    raise StructureConfigError(
        f"{where}: {raw} is not one of {', '.join(str(m.value) for m in kind)}"
    )


def _enum_list(kind: type[_E], raw: Any, where: str) -> list[_E]:
    return [_enum(kind, item, f"{where}[{i}]") for i, item in enumerate(_list(raw, where))]
