"""Properties of the rules engine that hold for every configuration, day and instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.domain.calendar import PARIS, WEEKDAY_CODES, Calendar, Closure, local_instant
from bot.domain.rules import (
    BookingWindow,
    Consequence,
    InBookingWindow,
    Service,
    StructureConfigError,
    booking_deadline,
    can_book,
    can_cancel,
    can_declare_absence,
    cancellation_deadline,
    parse_service_rules,
)

from . import GARDERIE_MATIN, raw_rules

CALENDAR = Calendar(
    "C",
    closures=[
        Closure(date(2026, 3, 13), None, "Grève"),
        Closure(date(2026, 10, 19), "svc", "Fermé"),
    ],
)
FIRST_DAY, LAST_DAY = date(2024, 1, 1), date(2028, 11, 30)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


def _hhmm(value: time) -> str:
    return f"{value:%H:%M}"


times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
weekday_codes = st.sampled_from(WEEKDAY_CODES)


@st.composite
def deadlines(draw: st.DrawFn, *, booking: bool) -> dict[str, Any]:
    """A raw deadline of any kind (the same-day/same-week ones may be rejected at parse)."""
    kinds = [
        "previous_service_day",
        "same_day",
        "same_week_day",
        "previous_week_day",
        "days_before_first_attendance",
    ] + (["booking_window"] if booking else [])
    kind = draw(st.sampled_from(kinds))
    raw: dict[str, Any] = {"kind": kind}
    if kind != "booking_window":
        raw["at"] = draw(st.one_of(st.just("closing"), times.map(_hhmm)))
    if kind in {"same_week_day", "previous_week_day"}:
        raw["weekday"] = draw(weekday_codes)
    if kind == "days_before_first_attendance":
        raw["days"] = draw(st.integers(1, 21))
        raw["counted_from"] = draw(st.sampled_from(["child", "period"]))
    if kind == "previous_service_day" and draw(st.booleans()):
        raw["max_days_back"] = draw(st.integers(1, 30))
    return raw


@st.composite
def services(draw: st.DrawFn) -> Service:
    """A valid service: either the seed garderie or any generated configuration."""
    starts = draw(times.filter(lambda t: t < time(23, 0)))
    ends = (datetime.combine(date.min, starts) + timedelta(minutes=draw(st.integers(1, 59)))).time()
    generated = {
        "weekdays": sorted(draw(st.sets(weekday_codes, min_size=1)), key=WEEKDAY_CODES.index),
        "runs_in": sorted(
            draw(
                st.sets(
                    st.sampled_from(["school_term", "short_holidays", "summer_holidays"]),
                    min_size=1,
                )
            )
        ),
        "starts": _hhmm(starts),
        "ends": _hhmm(ends),
        "closes": _hhmm(draw(times)),
        "capacity": draw(st.integers(1, 50)),
        "approval": draw(st.sampled_from(["auto", "staff"])),
        "booking": {"deadline": draw(deadlines(booking=True))},
        "cancellation": {
            "deadline": draw(deadlines(booking=False)),
            "late": draw(st.sampled_from(["billed", "refused"])),
        },
    }
    raw = draw(st.sampled_from([raw_rules(GARDERIE_MATIN), generated]))
    try:
        return Service("svc", parse_service_rules(raw, where="services[0].rules"))
    except StructureConfigError:
        assume(False)
        raise


@st.composite
def service_days(draw: st.DrawFn, svc: Service) -> date:
    """A day on which ``svc`` runs."""
    start = draw(st.dates(FIRST_DAY, LAST_DAY - timedelta(days=120)))
    running = CALENDAR.service_days(
        svc.code, svc.rules.schedule, start, start + timedelta(days=120)
    )
    assume(running)
    return draw(st.sampled_from(running))


instants = st.datetimes(
    min_value=datetime(2023, 6, 1), max_value=datetime(2029, 1, 1), timezones=st.just(UTC)
)
offsets = st.integers(-3 * 86400, 3 * 86400).map(lambda s: timedelta(seconds=s))


@st.composite
def cases(draw: st.DrawFn) -> tuple[Service, date, tuple[BookingWindow, ...], datetime]:
    """A service, one of its days, its booking windows and an instant (often near a cutoff)."""
    svc = draw(services())
    day = draw(service_days(svc))
    starts = local_instant(day, svc.rules.starts)
    opens_at = starts - timedelta(hours=draw(st.integers(-24, 24 * 60)))
    window = BookingWindow(  # may close after the service starts: the engine must cut it
        svc.code,
        period_start=day - timedelta(days=draw(st.integers(0, 20))),
        period_end=day + timedelta(days=draw(st.integers(0, 20))),
        opens_at=opens_at,
        closes_at=opens_at + timedelta(hours=draw(st.integers(1, 24 * 60))),
    )
    anchors = [starts, window.opens_at, window.closes_at]
    deadline = booking_deadline(svc, day, calendar=CALENDAR, windows=[window])
    anchors += [deadline] if deadline is not None else []
    anchors.append(cancellation_deadline(svc, day, calendar=CALENDAR))
    now = draw(
        st.one_of(instants, st.sampled_from(anchors).flatmap(lambda a: offsets.map(a.__add__)))
    )
    return svc, day, (window,), now


def _child_days(day: date) -> tuple[date, ...]:
    return (day - timedelta(days=2), day, day + timedelta(days=1))


@PROPERTY_SETTINGS
@given(cases())
def test_no_cutoff_is_ever_after_the_service_starts(
    case: tuple[Service, date, tuple[BookingWindow, ...], datetime],
) -> None:
    svc, day, windows, now = case
    starts = local_instant(day, svc.rules.starts).astimezone(UTC)
    child_days = _child_days(day)
    decisions = [
        can_book(svc, day, now, calendar=CALENDAR, windows=windows),
        can_cancel(svc, day, now, calendar=CALENDAR, child_days=child_days),
        can_declare_absence(svc, day, now, calendar=CALENDAR, child_days=child_days),
    ]
    cutoffs = [d.deadline for d in decisions] + [
        booking_deadline(svc, day, calendar=CALENDAR, windows=windows),
        cancellation_deadline(svc, day, calendar=CALENDAR, child_days=child_days),
    ]
    for cutoff in cutoffs:
        assert cutoff is None or cutoff.astimezone(UTC) <= starts
    assert not decisions[0].allowed or now.astimezone(UTC) < starts


@PROPERTY_SETTINGS
@given(cases(), st.integers(0, 40 * 86400))
def test_booking_allowed_now_is_allowed_earlier_in_the_same_window(
    case: tuple[Service, date, tuple[BookingWindow, ...], datetime], earlier_by: int
) -> None:
    svc, day, windows, now = case
    assume(can_book(svc, day, now, calendar=CALENDAR, windows=windows).allowed)
    earlier = now - timedelta(seconds=earlier_by)
    if isinstance(svc.rules.booking, InBookingWindow):
        earlier = max(earlier, windows[0].opens_at.astimezone(UTC))
    assert can_book(svc, day, earlier, calendar=CALENDAR, windows=windows).allowed


@PROPERTY_SETTINGS
@given(cases(), st.integers(0, 40 * 86400))
def test_a_free_cancellation_now_is_free_earlier(
    case: tuple[Service, date, tuple[BookingWindow, ...], datetime], earlier_by: int
) -> None:
    svc, day, _, now = case
    child_days = _child_days(day)
    decision = can_cancel(svc, day, now, calendar=CALENDAR, child_days=child_days)
    assume(decision.allowed)
    earlier = can_cancel(
        svc, day, now - timedelta(seconds=earlier_by), calendar=CALENDAR, child_days=child_days
    )
    assert earlier.allowed
    if decision.consequence is Consequence.NONE:
        assert earlier.consequence is Consequence.NONE


@PROPERTY_SETTINGS
@given(cases(), instants)
def test_deadlines_do_not_depend_on_the_instant_asked(
    case: tuple[Service, date, tuple[BookingWindow, ...], datetime], other: datetime
) -> None:
    svc, day, windows, now = case
    assume(not isinstance(svc.rules.booking, InBookingWindow))
    first = can_book(svc, day, now, calendar=CALENDAR, windows=windows)
    second = can_book(svc, day, other, calendar=CALENDAR, windows=windows)
    assert first.deadline == second.deadline
    assert first.allowed == (now.astimezone(UTC) < first.deadline.astimezone(UTC))  # type: ignore[union-attr]


@PROPERTY_SETTINGS
@given(cases())
def test_deadline_falls_at_the_configured_wall_time_in_paris(
    case: tuple[Service, date, tuple[BookingWindow, ...], datetime],
) -> None:
    svc, day, _, _ = case
    deadline_rule = svc.rules.cancellation
    assume(not time(2, 0) <= deadline_rule.at < time(3, 0))  # the hour DST may skip
    deadline = cancellation_deadline(svc, day, calendar=CALENDAR).astimezone(PARIS)
    starts = local_instant(day, svc.rules.starts)
    assert deadline.time() == deadline_rule.at or deadline == starts
    assert deadline.date() <= day


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 99), st.integers(0, 99))
def test_times_parse_exactly_when_they_exist(hour: int, minute: int) -> None:
    raw = raw_rules(starts=f"{hour:02d}:{minute:02d}", ends="23:59")
    if hour < 23 and minute < 60:
        assert parse_service_rules(raw, where="r").starts == time(hour, minute)
        return
    try:
        parse_service_rules(raw, where="r")
    except StructureConfigError as error:
        assert str(error).startswith(("r.starts: ", "r.ends: ", "r.cancellation", "r.booking"))
    else:
        assert hour == 23 and minute < 59
