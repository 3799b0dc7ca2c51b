"""The booking rules: each rule of PRODUCT.md "Booking rules", at the instants around its cutoff."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import PARIS, Calendar, Closure
from bot.domain.rules import (
    BelowMinimum,
    BookingWindow,
    Consequence,
    Decision,
    FirstAttendance,
    LatePolicy,
    Outcome,
    Reason,
    Service,
    StructureConfigError,
    WeekShortfall,
    booked_with,
    booking_deadline,
    can_book,
    can_cancel,
    can_declare_absence,
    cancellation_deadline,
    cancelled_with,
    check_min_per_week,
    check_requires,
    parse_service_rules,
)

from . import paris, raw_rules, service, utc

CALENDAR = Calendar("C")
SECOND = timedelta(seconds=1)

MATIN = service("garderie_matin")
SOIR = service(
    "garderie_soir",
    starts="16:30",
    ends="18:30",
    cancellation={"deadline": {"kind": "same_day", "at": "09:00"}, "late": "billed"},
)
CANTINE = service(
    "cantine",
    starts="11:45",
    ends="13:30",
    booking={"deadline": {"kind": "previous_week_day", "weekday": "fri", "at": "12:00"}},
    cancellation={
        "deadline": {"kind": "previous_week_day", "weekday": "fri", "at": "12:00"},
        "late": "billed",
    },
)
_MONDAY_10 = {"kind": "same_week_day", "weekday": "mon", "at": "10:00"}
MERCREDI = service(
    "alsh_mercredi",
    weekdays=["wed"],
    ends="18:30",
    approval="staff",
    capacity=24,
    booking={"deadline": _MONDAY_10},
    cancellation={"deadline": _MONDAY_10, "late": "billed"},
)
VACANCES = service(
    "alsh_vacances",
    weekdays=["mon", "tue", "wed", "thu", "fri"],
    runs_in=["short_holidays", "summer_holidays"],
    ends="18:30",
    approval="staff",
    min_per_week=2,
    booking={"deadline": {"kind": "booking_window"}},
    cancellation={
        "deadline": {"kind": "days_before_first_attendance", "days": 7, "at": "closing"},
        "late": "billed",
    },
)
# A service on Sundays, to put deadlines on the days the clocks change.
DIMANCHE = service(
    "dimanche",
    weekdays=["sun"],
    runs_in=["school_term", "short_holidays", "summer_holidays"],
    starts="10:00",
    ends="12:00",
    booking={"deadline": {"kind": "same_day", "at": "02:30"}},
    cancellation={"deadline": {"kind": "same_day", "at": "09:00"}, "late": "refused"},
)

SPRING_2026 = BookingWindow(
    "alsh_vacances",
    period_start=date(2026, 4, 18),
    period_end=date(2026, 5, 3),
    opens_at=paris(2026, 3, 23, 8, 0),  # CET
    closes_at=paris(2026, 4, 10, 18, 0),  # CEST
)


def _around(deadline: datetime) -> tuple[datetime, datetime, datetime]:
    """The instants just before, at, and just after a deadline."""
    return deadline - SECOND, deadline, deadline + SECOND


# --- booking deadlines -----------------------------------------------------------------------

BOOKING_CUTOFFS = [
    # garderie: the day before, before the accueil closes (the previous service day)
    pytest.param(MATIN, date(2026, 3, 10), utc(2026, 3, 9, 17, 30), id="tue-morning→mon-18:30"),
    pytest.param(MATIN, date(2026, 3, 12), utc(2026, 3, 10, 17, 30), id="thu-morning→tue-18:30"),
    pytest.param(MATIN, date(2026, 3, 13), utc(2026, 3, 12, 17, 30), id="fri-morning→thu-18:30"),
    pytest.param(MATIN, date(2026, 3, 30), utc(2026, 3, 27, 17, 30), id="mon-after-dst→fri-cet"),
    pytest.param(MATIN, date(2026, 4, 7), utc(2026, 4, 3, 16, 30), id="after-easter-monday→fri"),
    pytest.param(MATIN, date(2026, 11, 2), utc(2026, 11, 1, 17, 30), id="after-toussaint→eve-cet"),
    pytest.param(SOIR, date(2026, 3, 31), utc(2026, 3, 30, 16, 30), id="evening→day-before-cest"),
    # a whole week closes on the previous Friday at 12:00
    pytest.param(CANTINE, date(2026, 3, 30), utc(2026, 3, 27, 11, 0), id="week-mon→fri-noon-cet"),
    pytest.param(CANTINE, date(2026, 4, 3), utc(2026, 3, 27, 11, 0), id="week-fri→fri-noon-cet"),
    # Wednesday ALSH: before 10:00 on the Monday of that week
    pytest.param(MERCREDI, date(2026, 3, 11), utc(2026, 3, 9, 9, 0), id="wednesday→mon-10-cet"),
    pytest.param(MERCREDI, date(2026, 4, 1), utc(2026, 3, 30, 8, 0), id="wednesday→mon-10-cest"),
    # deadlines on the DST days themselves
    pytest.param(DIMANCHE, date(2026, 3, 29), utc(2026, 3, 29, 1, 0), id="02:30-skipped→03:00"),
    pytest.param(DIMANCHE, date(2026, 10, 25), utc(2026, 10, 25, 0, 30), id="02:30-twice→first"),
]


@pytest.mark.parametrize(("svc", "day", "deadline"), BOOKING_CUTOFFS)
def test_booking_cutoff(svc: Service, day: date, deadline: datetime) -> None:
    before, at, after = _around(deadline)
    allowed = can_book(svc, day, before, calendar=CALENDAR)
    assert allowed.allowed and allowed.reason is None
    assert allowed.deadline is not None and allowed.deadline.astimezone(UTC) == deadline
    for late in (at, after):
        refused = can_book(svc, day, late, calendar=CALENDAR)
        assert (refused.outcome, refused.reason) == (Outcome.REFUSED, Reason.TOO_LATE)
    assert booking_deadline(svc, day, calendar=CALENDAR) == allowed.deadline


def test_the_same_instant_in_any_zone_gives_the_same_answer() -> None:
    deadline = utc(2026, 3, 27, 17, 30)  # Friday 18:30 CET for Monday 30 March
    monday = date(2026, 3, 30)
    for zone in map(ZoneInfo, ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo")):
        assert can_book(
            MATIN, monday, (deadline - SECOND).astimezone(zone), calendar=CALENDAR
        ).allowed
        assert not can_book(MATIN, monday, deadline.astimezone(zone), calendar=CALENDAR).allowed


def test_the_repeated_hour_is_told_apart() -> None:
    """02:15 the second time (CET) is after 02:30 the first time (CEST): too late."""
    sunday = date(2026, 10, 25)
    first_0215 = paris(2026, 10, 25, 2, 15)
    second_0215 = first_0215.replace(fold=1)
    assert can_book(DIMANCHE, sunday, first_0215, calendar=CALENDAR).allowed
    assert can_book(DIMANCHE, sunday, second_0215, calendar=CALENDAR).reason is Reason.TOO_LATE


def test_deadlines_are_given_in_paris_time() -> None:
    decision = can_book(MATIN, date(2026, 3, 30), utc(2026, 3, 20), calendar=CALENDAR)
    assert decision.deadline is not None
    assert decision.deadline.tzinfo is PARIS
    assert decision.deadline.replace(tzinfo=None) == datetime(2026, 3, 27, 18, 30)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        can_book(MATIN, date(2026, 3, 10), datetime(2026, 3, 9, 12, 0), calendar=CALENDAR)
    with pytest.raises(ValueError, match="aware"):
        can_cancel(MATIN, date(2026, 3, 10), datetime(2026, 3, 9, 12, 0), calendar=CALENDAR)


# --- cancellation deadlines ------------------------------------------------------------------

CANCELLATION_CUTOFFS = [
    # evening garderie: before 09:00 that morning
    pytest.param(SOIR, date(2026, 3, 10), (), utc(2026, 3, 10, 8, 0), id="evening→09:00-cet"),
    pytest.param(SOIR, date(2026, 3, 30), (), utc(2026, 3, 30, 7, 0), id="evening→09:00-cest"),
    # mornings: before closing on the previous day the service runs
    pytest.param(MATIN, date(2026, 3, 16), (), utc(2026, 3, 13, 17, 30), id="monday→friday"),
    pytest.param(
        MATIN, date(2026, 3, 30), (), utc(2026, 3, 27, 17, 30), id="monday→friday-before-dst"
    ),
    pytest.param(MATIN, date(2026, 3, 12), (), utc(2026, 3, 10, 17, 30), id="thursday→tuesday"),
    pytest.param(MATIN, date(2026, 3, 10), (), utc(2026, 3, 9, 17, 30), id="tuesday→monday"),
    pytest.param(MATIN, date(2026, 3, 13), (), utc(2026, 3, 12, 17, 30), id="friday→thursday"),
    # whole week / Wednesday ALSH
    pytest.param(CANTINE, date(2026, 3, 31), (), utc(2026, 3, 27, 11, 0), id="week→friday-noon"),
    pytest.param(MERCREDI, date(2026, 4, 1), (), utc(2026, 3, 30, 8, 0), id="wednesday→monday-10"),
    # 09:00 on the DST days
    pytest.param(DIMANCHE, date(2026, 3, 29), (), utc(2026, 3, 29, 7, 0), id="dst-march-09:00"),
    pytest.param(DIMANCHE, date(2026, 10, 25), (), utc(2026, 10, 25, 8, 0), id="dst-october-09:00"),
    # holidays ALSH: 7 days before the child's first day of attendance, at closing
    pytest.param(
        VACANCES,
        date(2026, 4, 23),
        (date(2026, 4, 21), date(2026, 4, 23)),
        utc(2026, 4, 14, 16, 30),
        id="holidays→7-days-before-first-day",
    ),
    pytest.param(
        VACANCES,
        date(2026, 4, 21),
        (),
        utc(2026, 4, 14, 16, 30),
        id="holidays-no-other-day→7-days-before-itself",
    ),
    pytest.param(
        VACANCES,
        date(2026, 10, 27),
        (date(2026, 10, 26), date(2026, 10, 27), date(2026, 7, 6)),
        utc(2026, 10, 19, 16, 30),
        id="toussaint-after-dst→cest-cutoff",
    ),
]


@pytest.mark.parametrize(("svc", "day", "child_days", "deadline"), CANCELLATION_CUTOFFS)
def test_cancellation_cutoff(
    svc: Service, day: date, child_days: tuple[date, ...], deadline: datetime
) -> None:
    before, at, after = _around(deadline)
    in_time = can_cancel(svc, day, before, calendar=CALENDAR, child_days=child_days)
    assert in_time.allowed and in_time.consequence is Consequence.NONE
    assert in_time.deadline is not None and in_time.deadline.astimezone(UTC) == deadline
    for late in (at, after):
        decision = can_cancel(svc, day, late, calendar=CALENDAR, child_days=child_days)
        assert decision.deadline == in_time.deadline
        if svc.rules.late is LatePolicy.BILLED:
            assert decision.allowed and decision.consequence is Consequence.BILLED_UNLESS_EXCUSED
        else:
            assert (decision.outcome, decision.reason) == (Outcome.REFUSED, Reason.TOO_LATE)
    assert (
        cancellation_deadline(svc, day, calendar=CALENDAR, child_days=child_days)
        == in_time.deadline
    )


@pytest.mark.parametrize(("svc", "day", "child_days", "deadline"), CANCELLATION_CUTOFFS)
def test_absence_has_the_cancellation_cutoff(
    svc: Service, day: date, child_days: tuple[date, ...], deadline: datetime
) -> None:
    early = can_declare_absence(
        svc, day, deadline - SECOND, calendar=CALENDAR, child_days=child_days
    )
    late = can_declare_absence(svc, day, deadline, calendar=CALENDAR, child_days=child_days)
    assert early.allowed and early.consequence is Consequence.NONE
    billed = svc.rules.late is LatePolicy.BILLED
    assert _summary(late) is (Consequence.BILLED_UNLESS_EXCUSED if billed else Reason.TOO_LATE)
    assert late.deadline == early.deadline


def test_late_cancellation_refused_when_the_service_says_so() -> None:
    strict = service(
        "strict",
        cancellation={
            "deadline": {"kind": "previous_service_day", "at": "closing"},
            "late": "refused",
        },
    )
    decision = can_cancel(strict, date(2026, 3, 10), utc(2026, 3, 9, 17, 30), calendar=CALENDAR)
    assert (decision.outcome, decision.reason) == (Outcome.REFUSED, Reason.TOO_LATE)
    assert decision.deadline is not None and decision.deadline.astimezone(UTC) == utc(
        2026, 3, 9, 17, 30
    )


@pytest.mark.parametrize(
    ("now", "cancel", "absence"),
    [
        # evening garderie of Tuesday 10 March 2026: 16:30-18:30 CET, cutoff 09:00
        (
            paris(2026, 3, 10, 12, 0),
            Consequence.BILLED_UNLESS_EXCUSED,
            Consequence.BILLED_UNLESS_EXCUSED,
        ),
        (
            paris(2026, 3, 10, 16, 29, 59),
            Consequence.BILLED_UNLESS_EXCUSED,
            Consequence.BILLED_UNLESS_EXCUSED,
        ),
        (paris(2026, 3, 10, 16, 30), Reason.SERVICE_STARTED, Consequence.BILLED_UNLESS_EXCUSED),
        (paris(2026, 3, 10, 18, 29, 59), Reason.SERVICE_STARTED, Consequence.BILLED_UNLESS_EXCUSED),
        (paris(2026, 3, 10, 18, 30), Reason.SERVICE_STARTED, Reason.SERVICE_OVER),
    ],
)
def test_cancel_until_the_start_declare_absence_until_the_end(
    now: datetime, cancel: Consequence | Reason, absence: Consequence | Reason
) -> None:
    day = date(2026, 3, 10)
    for decision, expected in (
        (can_cancel(SOIR, day, now, calendar=CALENDAR), cancel),
        (can_declare_absence(SOIR, day, now, calendar=CALENDAR), absence),
    ):
        assert _summary(decision) is expected


def _summary(decision: Decision) -> Consequence | Reason | None:
    return decision.reason if decision.reason is not None else decision.consequence


# --- days the service does not run -----------------------------------------------------------

CLOSED = Calendar(
    "C",
    closures=[
        Closure(date(2026, 3, 13), None, "Grève"),
        Closure(date(2026, 3, 16), "cantine", "Panne de cuisine"),
    ],
)


@pytest.mark.parametrize(
    ("svc", "day", "reason"),
    [
        (MATIN, date(2026, 3, 13), Reason.CLOSURE),
        (CANTINE, date(2026, 3, 16), Reason.CLOSURE),
        (MATIN, date(2026, 3, 16), None),  # the cantine closure leaves the garderie open
        (MATIN, date(2026, 4, 6), Reason.PUBLIC_HOLIDAY),  # Lundi de Pâques
        (MATIN, date(2026, 5, 14), Reason.PUBLIC_HOLIDAY),  # Ascension
        (MATIN, date(2026, 4, 21), Reason.SCHOOL_HOLIDAYS),
        (MATIN, date(2026, 7, 20), Reason.SCHOOL_HOLIDAYS),
        (MATIN, date(2026, 3, 11), Reason.WEEKDAY),  # no garderie on Wednesday
        (MATIN, date(2026, 3, 14), Reason.WEEKDAY),
        (MERCREDI, date(2026, 4, 22), Reason.SCHOOL_HOLIDAYS),
        (VACANCES, date(2026, 3, 11), Reason.SCHOOL_TERM),
    ],
)
def test_no_booking_or_cancelling_when_the_service_does_not_run(
    svc: Service, day: date, reason: Reason | None
) -> None:
    long_before = paris(2026, 1, 5, 8, 0)
    windows = (SPRING_2026,)
    book = can_book(svc, day, long_before, calendar=CLOSED, windows=windows)
    cancel = can_cancel(svc, day, long_before, calendar=CLOSED)
    absence = can_declare_absence(svc, day, long_before, calendar=CLOSED)
    for decision in (book, cancel, absence):
        assert decision.reason is reason
    if reason is not None:
        assert booking_deadline(svc, day, calendar=CLOSED, windows=windows) is None


# --- capacity and approval -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("booked_count", "outcome", "reason"),
    [(0, Outcome.ACCEPTED, None), (39, Outcome.ACCEPTED, None), (40, Outcome.REFUSED, Reason.FULL)],
)
def test_capacity(booked_count: int, outcome: Outcome, reason: Reason | None) -> None:
    decision = can_book(
        MATIN,
        date(2026, 3, 10),
        paris(2026, 3, 9, 12),
        calendar=CALENDAR,
        booked_count=booked_count,
    )
    assert (decision.outcome, decision.reason) == (outcome, reason)


def test_no_capacity_means_no_limit() -> None:
    unlimited = service(capacity=None)
    decision = can_book(
        unlimited, date(2026, 3, 10), paris(2026, 3, 9, 12), calendar=CALENDAR, booked_count=10_000
    )
    assert decision.outcome is Outcome.ACCEPTED


def test_too_late_wins_over_full() -> None:
    decision = can_book(
        MATIN, date(2026, 3, 10), paris(2026, 3, 9, 19), calendar=CALENDAR, booked_count=40
    )
    assert decision.reason is Reason.TOO_LATE


@pytest.mark.parametrize(
    ("approval", "outcome"), [("auto", Outcome.ACCEPTED), ("staff", Outcome.PENDING)]
)
def test_approval_setting(approval: str, outcome: Outcome) -> None:
    svc = service(approval=approval)
    day, now = date(2026, 3, 10), paris(2026, 3, 9, 12)
    assert can_book(svc, day, now, calendar=CALENDAR).outcome is outcome
    assert can_cancel(svc, day, now, calendar=CALENDAR).outcome is outcome
    late = can_cancel(svc, day, paris(2026, 3, 9, 19), calendar=CALENDAR)
    assert (late.outcome, late.consequence) == (outcome, Consequence.BILLED_UNLESS_EXCUSED)


# --- holidays ALSH: booking windows, weekly minimum, first day of attendance ------------------


@pytest.mark.parametrize(
    ("now", "outcome", "reason"),
    [
        (SPRING_2026.opens_at - SECOND, Outcome.REFUSED, Reason.BOOKING_WINDOW_NOT_OPEN),
        (SPRING_2026.opens_at, Outcome.PENDING, None),
        (paris(2026, 3, 29, 3, 0), Outcome.PENDING, None),  # the DST night, inside the window
        (SPRING_2026.closes_at - SECOND, Outcome.PENDING, None),
        (SPRING_2026.closes_at, Outcome.REFUSED, Reason.BOOKING_WINDOW_CLOSED),
        (SPRING_2026.closes_at + SECOND, Outcome.REFUSED, Reason.BOOKING_WINDOW_CLOSED),
    ],
)
def test_booking_window(now: datetime, outcome: Outcome, reason: Reason | None) -> None:
    decision = can_book(VACANCES, date(2026, 4, 22), now, calendar=CALENDAR, windows=[SPRING_2026])
    assert (decision.outcome, decision.reason) == (outcome, reason)
    assert decision.deadline == SPRING_2026.closes_at
    assert decision.opens_at == SPRING_2026.opens_at


def test_booking_outside_any_window() -> None:
    summer = date(2026, 7, 8)
    decision = can_book(
        VACANCES, summer, paris(2026, 4, 1), calendar=CALENDAR, windows=[SPRING_2026]
    )
    assert (decision.outcome, decision.reason) == (Outcome.REFUSED, Reason.NO_BOOKING_WINDOW)
    assert booking_deadline(VACANCES, summer, calendar=CALENDAR, windows=[SPRING_2026]) is None


def test_window_of_another_service_does_not_count() -> None:
    other = BookingWindow(
        "alsh_ados",
        date(2026, 4, 18),
        date(2026, 5, 3),
        SPRING_2026.opens_at,
        SPRING_2026.closes_at,
    )
    decision = can_book(
        VACANCES, date(2026, 4, 22), paris(2026, 4, 1), calendar=CALENDAR, windows=[other]
    )
    assert decision.reason is Reason.NO_BOOKING_WINDOW


def test_second_window_after_the_first_closed() -> None:
    late_window = BookingWindow(
        "alsh_vacances",
        date(2026, 4, 18),
        date(2026, 5, 3),
        paris(2026, 4, 13, 9),
        paris(2026, 4, 15, 18),
    )
    windows = [late_window, SPRING_2026]
    first_open = can_book(
        VACANCES, date(2026, 4, 22), paris(2026, 4, 1), calendar=CALENDAR, windows=windows
    )
    assert first_open.outcome is Outcome.PENDING and first_open.deadline == SPRING_2026.closes_at
    between = can_book(
        VACANCES, date(2026, 4, 22), paris(2026, 4, 12), calendar=CALENDAR, windows=windows
    )
    assert (between.reason, between.opens_at) == (
        Reason.BOOKING_WINDOW_NOT_OPEN,
        late_window.opens_at,
    )
    inside = can_book(
        VACANCES, date(2026, 4, 22), paris(2026, 4, 14), calendar=CALENDAR, windows=windows
    )
    assert inside.outcome is Outcome.PENDING and inside.deadline == late_window.closes_at
    both_closed = can_book(
        VACANCES, date(2026, 4, 22), paris(2026, 4, 16), calendar=CALENDAR, windows=windows
    )
    assert (both_closed.reason, both_closed.deadline) == (
        Reason.BOOKING_WINDOW_CLOSED,
        late_window.closes_at,
    )


def test_window_closing_after_the_service_starts_is_cut_at_the_start() -> None:
    generous = BookingWindow(
        "alsh_vacances",
        date(2026, 4, 18),
        date(2026, 5, 3),
        paris(2026, 3, 1),
        paris(2026, 5, 3, 23),
    )
    start = paris(2026, 4, 20, 7, 30)
    assert can_book(
        VACANCES, date(2026, 4, 20), start - SECOND, calendar=CALENDAR, windows=[generous]
    ).allowed
    decision = can_book(VACANCES, date(2026, 4, 20), start, calendar=CALENDAR, windows=[generous])
    assert (decision.reason, decision.deadline) == (Reason.BOOKING_WINDOW_CLOSED, start)


def test_window_full() -> None:
    svc = service(
        "alsh_vacances",
        capacity=2,
        weekdays=["mon", "tue", "wed", "thu", "fri"],
        runs_in=["short_holidays"],
        booking={"deadline": {"kind": "booking_window"}},
    )
    decision = can_book(
        svc,
        date(2026, 4, 22),
        paris(2026, 4, 1),
        calendar=CALENDAR,
        windows=[SPRING_2026],
        booked_count=2,
    )
    assert (decision.reason, decision.deadline) == (Reason.FULL, SPRING_2026.closes_at)


def test_booking_window_must_be_well_formed() -> None:
    with pytest.raises(ValueError, match="aware"):
        BookingWindow(
            "x", date(2026, 4, 18), date(2026, 5, 3), datetime(2026, 3, 1), paris(2026, 4, 1)
        )
    with pytest.raises(ValueError, match="open before"):
        BookingWindow(
            "x", date(2026, 4, 18), date(2026, 5, 3), paris(2026, 4, 1), paris(2026, 3, 1)
        )


@pytest.mark.parametrize(
    ("counted_from", "child_days", "deadline"),
    [
        # the child comes from Wednesday 22 April: cancelling Thursday 23
        (FirstAttendance.CHILD, (date(2026, 4, 22), date(2026, 4, 23)), paris(2026, 4, 15, 18, 30)),
        # the first day the ALSH runs in the spring holidays is Monday 20 April
        (
            FirstAttendance.PERIOD,
            (date(2026, 4, 22), date(2026, 4, 23)),
            paris(2026, 4, 13, 18, 30),
        ),
    ],
)
def test_first_day_of_attendance(
    counted_from: FirstAttendance, child_days: tuple[date, ...], deadline: datetime
) -> None:
    svc = service(
        "alsh_vacances",
        weekdays=["mon", "tue", "wed", "thu", "fri"],
        runs_in=["short_holidays", "summer_holidays"],
        booking={"deadline": {"kind": "booking_window"}},
        cancellation={
            "deadline": {
                "kind": "days_before_first_attendance",
                "days": 7,
                "at": "closing",
                "counted_from": counted_from.value,
            },
            "late": "billed",
        },
    )
    assert (
        cancellation_deadline(svc, date(2026, 4, 23), calendar=CALENDAR, child_days=child_days)
        == deadline
    )


@pytest.mark.parametrize(
    ("days", "shortfalls"),
    [
        ((date(2026, 4, 20), date(2026, 4, 22)), ()),
        ((date(2026, 4, 20),), (WeekShortfall(date(2026, 4, 20), 1, 2),)),
        (
            (date(2026, 4, 20), date(2026, 4, 21), date(2026, 4, 27)),
            (WeekShortfall(date(2026, 4, 27), 1, 2),),
        ),
        ((date(2026, 4, 20), date(2026, 4, 20)), (WeekShortfall(date(2026, 4, 20), 1, 2),)),
        # a day the ALSH does not run (Saturday) does not count
        ((date(2026, 4, 20), date(2026, 4, 25)), (WeekShortfall(date(2026, 4, 20), 1, 2),)),
        # summer 2026 ends Monday 31 August: one day offered that week, one required
        ((date(2026, 8, 31),), ()),
        # pont de l'Ascension 2027: Thursday is a public holiday, only Friday runs
        ((date(2027, 5, 7),), ()),
        # Christmas week 2026: Friday 25 is a public holiday, 4 days offered, still 2 required
        ((date(2026, 12, 21),), (WeekShortfall(date(2026, 12, 21), 1, 2),)),
    ],
)
def test_minimum_attendances_per_week(
    days: tuple[date, ...], shortfalls: tuple[WeekShortfall, ...]
) -> None:
    assert check_min_per_week(VACANCES, days, calendar=CALENDAR) == shortfalls


def test_no_weekly_minimum_unless_configured() -> None:
    assert check_min_per_week(MATIN, [date(2026, 3, 10)], calendar=CALENDAR) == ()


@pytest.mark.parametrize(
    ("raw", "count", "below"),
    [
        (2, 2, BelowMinimum.FLAG),  # the old integer form: flagged to staff
        ({"count": 2, "below": "refuse"}, 2, BelowMinimum.REFUSE),
        ({"count": 3, "below": "flag"}, 3, BelowMinimum.FLAG),
    ],
)
def test_weekly_minimum_is_refused_or_flagged_as_configured(
    raw: Any, count: int, below: BelowMinimum
) -> None:
    rules = parse_service_rules(raw_rules(min_per_week=raw), where="test.rules")
    assert (rules.min_per_week, rules.below_minimum) == (count, below)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"count": 2, "below": "warn"},
            "test.rules.min_per_week.below: warn is not one of refuse, flag",
        ),
        ({"count": 2}, "test.rules.min_per_week.below: missing"),
        (
            {"count": 0, "below": "flag"},
            "test.rules.min_per_week.count: 0 is not a whole number from 1 to 7",
        ),
    ],
)
def test_weekly_minimum_configuration_errors(raw: Any, message: str) -> None:
    with pytest.raises(StructureConfigError) as error:
        parse_service_rules(raw_rules(min_per_week=raw), where="test.rules")
    assert str(error.value) == message


# --- previous service day far back -----------------------------------------------------------


@pytest.mark.parametrize(
    ("max_days_back", "deadline"),
    [
        (None, paris(2026, 5, 3, 18, 30)),
        (7, paris(2026, 5, 3, 18, 30)),
        (20, paris(2026, 4, 17, 18, 30)),
    ],
)
def test_max_days_back_after_the_holidays(max_days_back: int | None, deadline: datetime) -> None:
    previous: dict[str, Any] = {"kind": "previous_service_day", "at": "closing"}
    if max_days_back is not None:
        previous["max_days_back"] = max_days_back
    svc = service(booking={"deadline": previous})
    assert booking_deadline(svc, date(2026, 5, 4), calendar=CALENDAR) == deadline


_GOUTER = service(
    "gouter",
    starts="16:30",
    ends="17:00",
    cancellation={"deadline": {"kind": "same_day", "at": "09:00"}, "late": "billed"},
)


@pytest.mark.parametrize(
    ("svc", "day", "now", "outcome", "deadline"),
    [
        # Christmas 2026: Monday 4 January 2027 closes on Sunday 3 at 18:30, not Friday 18 December
        (
            MATIN,
            date(2027, 1, 4),
            paris(2026, 12, 28, 10, 0),
            Outcome.ACCEPTED,
            paris(2027, 1, 3, 18, 30),
        ),
        (
            MATIN,
            date(2027, 1, 4),
            paris(2027, 1, 3, 18, 29, 59),
            Outcome.ACCEPTED,
            paris(2027, 1, 3, 18, 30),
        ),
        (
            MATIN,
            date(2027, 1, 4),
            paris(2027, 1, 3, 18, 30),
            Outcome.REFUSED,
            paris(2027, 1, 3, 18, 30),
        ),
        # the last days before the holidays still close on the previous open day
        (
            MATIN,
            date(2026, 12, 18),
            paris(2026, 12, 17, 18, 29),
            Outcome.ACCEPTED,
            paris(2026, 12, 17, 18, 30),
        ),
        # after Toussaint 2027 (clocks changed on 31 October): evening garderie and goûter
        (
            SOIR,
            date(2027, 11, 8),
            paris(2027, 11, 2, 9, 0),
            Outcome.ACCEPTED,
            paris(2027, 11, 7, 18, 30),
        ),
        (
            SOIR,
            date(2027, 11, 8),
            paris(2027, 11, 7, 18, 30),
            Outcome.REFUSED,
            paris(2027, 11, 7, 18, 30),
        ),
        (
            _GOUTER,
            date(2027, 11, 8),
            paris(2027, 11, 7, 18, 29, 59),
            Outcome.ACCEPTED,
            paris(2027, 11, 7, 18, 30),
        ),
        # Friday 12 November after the public holiday of Thursday 11: Tuesday 9, 18:30
        (
            SOIR,
            date(2027, 11, 12),
            paris(2027, 11, 9, 18, 29),
            Outcome.ACCEPTED,
            paris(2027, 11, 9, 18, 30),
        ),
    ],
)
def test_first_day_after_the_holidays_closes_the_evening_before(
    svc: Service, day: date, now: datetime, outcome: Outcome, deadline: datetime
) -> None:
    decision = can_book(svc, day, now, calendar=CALENDAR)
    assert (decision.outcome, decision.deadline) == (outcome, deadline)


@pytest.mark.parametrize(
    ("now", "consequence"),
    [
        (paris(2026, 12, 23, 12, 0), Consequence.NONE),
        (paris(2027, 1, 3, 18, 29, 59), Consequence.NONE),
        (paris(2027, 1, 3, 18, 30), Consequence.BILLED_UNLESS_EXCUSED),
    ],
)
def test_cancelling_during_the_holidays_is_free(now: datetime, consequence: Consequence) -> None:
    decision = can_cancel(MATIN, date(2027, 1, 4), now, calendar=CALENDAR)
    assert decision.allowed and decision.consequence is consequence


# --- services booked and cancelled together --------------------------------------------------


def _rules_by_code(requires: dict[str, list[str]]) -> dict[str, Any]:
    return {
        code: parse_service_rules(raw_rules(requires=needed or None), where=f"services[{i}].rules")
        for i, (code, needed) in enumerate(requires.items())
    }


def test_gouter_and_evening_garderie_go_together() -> None:
    rules = _rules_by_code(
        {"garderie_soir": ["gouter"], "gouter": ["garderie_soir"], "garderie_matin": []}
    )
    assert booked_with("garderie_soir", rules) == {"gouter"}
    assert booked_with("gouter", rules) == {"garderie_soir"}
    assert cancelled_with("garderie_soir", rules) == {"gouter"}
    assert cancelled_with("gouter", rules) == {"garderie_soir"}
    assert booked_with("garderie_matin", rules) == frozenset()
    assert cancelled_with("garderie_matin", rules) == frozenset()


def test_requirements_are_one_way_and_transitive() -> None:
    rules = _rules_by_code({"a": ["b"], "b": ["c"], "c": []})
    assert booked_with("a", rules) == {"b", "c"}
    assert booked_with("c", rules) == frozenset()
    assert cancelled_with("c", rules) == {"a", "b"}
    assert cancelled_with("a", rules) == frozenset()


@pytest.mark.parametrize(
    ("requires", "message"),
    [
        ({"a": ["b"], "b": []}, None),
        ({"a": ["z"], "b": []}, "services[0].rules.requires: z is not another service's code"),
        ({"a": [], "b": ["b"]}, "services[1].rules.requires: b is not another service's code"),
    ],
)
def test_check_requires(requires: dict[str, list[str]], message: str | None) -> None:
    rules = _rules_by_code(requires)
    if message is None:
        check_requires(rules)
        return
    with pytest.raises(StructureConfigError) as error:
        check_requires(rules)
    assert str(error.value) == message


# --- configuration errors --------------------------------------------------------------------

_KINDS = (
    "previous_service_day, same_day, same_week_day, previous_week_day,"
    " days_before_first_attendance, booking_window"
)
_WEEKDAYS = "mon, tue, wed, thu, fri, sat, sun"


def _deadline(**deadline: Any) -> dict[str, Any]:
    return {"deadline": deadline}


def _cancel(late: str = "billed", **deadline: Any) -> dict[str, Any]:
    return {"deadline": deadline, "late": late}


PARSE_ERRORS = [
    (
        raw_rules(booking=_deadline(kind="same_day", at="25:00")),
        "test.rules.booking.deadline.at: 25:00 is not a time HH:MM",
    ),
    (
        raw_rules(booking=_deadline(kind="same_day", at="7h30")),
        "test.rules.booking.deadline.at: 7h30 is not a time HH:MM",
    ),
    (
        raw_rules(starts=1110),
        'test.rules.starts: 1110 is not a time HH:MM (write it between quotes, e.g. "18:30")',
    ),
    (raw_rules(ends="07:00"), "test.rules.ends: 07:00 is not after starts 07:30"),
    (raw_rules(approval=None), "test.rules.approval: missing"),
    (
        raw_rules(capacty=3),
        "test.rules.capacty: unknown key (expected one of: approval, booking, cancellation,"
        " capacity, closes, ends, min_per_week, requires, runs_in, starts, weekdays)",
    ),
    (
        raw_rules(weekdays=["mon", "lundi"]),
        f"test.rules.weekdays[1]: lundi is not a weekday ({_WEEKDAYS})",
    ),
    (raw_rules(weekdays=[]), "test.rules.weekdays: expected a non-empty list, found []"),
    (raw_rules(weekdays="mon"), "test.rules.weekdays: expected a non-empty list, found mon"),
    (raw_rules(weekdays=["mon", "mon"]), "test.rules.weekdays: a weekday is listed twice"),
    (
        raw_rules(runs_in=["school"]),
        "test.rules.runs_in[0]: school is not one of school_term, short_holidays, summer_holidays",
    ),
    (raw_rules(approval="maybe"), "test.rules.approval: maybe is not one of auto, staff"),
    (raw_rules(capacity=0), "test.rules.capacity: 0 is not a whole number at least 1"),
    (raw_rules(capacity=True), "test.rules.capacity: True is not a whole number at least 1"),
    (raw_rules(capacity="40"), "test.rules.capacity: 40 is not a whole number at least 1"),
    (raw_rules(min_per_week=8), "test.rules.min_per_week: 8 is not a whole number from 1 to 7"),
    (raw_rules(requires=[""]), "test.rules.requires[0]: expected a non-empty text, found "),
    (
        raw_rules(closes=None),
        "test.rules.booking.deadline.at: closing needs the service's closes time (rules.closes)",
    ),
    (raw_rules(booking="tomorrow"), "test.rules.booking: expected a mapping, found str"),
    (raw_rules(booking={}), "test.rules.booking.deadline: missing"),
    (
        raw_rules(booking={"deadline": {"kind": "same_day", "at": "06:00"}, "late": "billed"}),
        "test.rules.booking.late: unknown key (expected one of: deadline)",
    ),
    (
        raw_rules(booking=_deadline(kind="tomorrow")),
        f"test.rules.booking.deadline.kind: tomorrow is not one of {_KINDS}",
    ),
    (
        raw_rules(booking=_deadline(at="06:00")),
        f"test.rules.booking.deadline.kind: None is not one of {_KINDS}",
    ),
    (
        raw_rules(booking=_deadline(kind="same_day", at="06:00", weekday="mon")),
        "test.rules.booking.deadline.weekday: unknown key (expected one of: at, kind)",
    ),
    (
        raw_rules(booking=_deadline(kind="same_week_day", at="06:00")),
        "test.rules.booking.deadline.weekday: missing",
    ),
    (
        raw_rules(booking=_deadline(kind="same_week_day", weekday="monday", at="06:00")),
        f"test.rules.booking.deadline.weekday: monday is not a weekday ({_WEEKDAYS})",
    ),
    (
        raw_rules(booking=_deadline(kind="same_week_day", weekday="tue", at="06:00")),
        "test.rules.booking.deadline.weekday: tue 06:00 is after the service starts on mon",
    ),
    (
        raw_rules(booking=_deadline(kind="same_week_day", weekday="mon", at="08:00")),
        "test.rules.booking.deadline.weekday: mon 08:00 is after the service starts on mon",
    ),
    (
        raw_rules(booking=_deadline(kind="previous_service_day", at="closing", max_days_back=0)),
        "test.rules.booking.deadline.max_days_back: 0 is not a whole number at least 1",
    ),
    (
        raw_rules(cancellation=_cancel(kind="same_day", at="09:00")),
        "test.rules.cancellation.deadline.at: 09:00 is after the service starts (07:30)",
    ),
    (
        raw_rules(cancellation=_cancel(kind="booking_window")),
        "test.rules.cancellation.deadline.kind: booking_window is for booking only",
    ),
    (
        raw_rules(cancellation=_cancel(late="free", kind="same_day", at="07:00")),
        "test.rules.cancellation.late: free is not one of billed, refused",
    ),
    (
        raw_rules(cancellation={"deadline": {"kind": "same_day", "at": "07:00"}}),
        "test.rules.cancellation.late: missing",
    ),
    (
        raw_rules(cancellation=_cancel(kind="days_before_first_attendance", days=0, at="closing")),
        "test.rules.cancellation.deadline.days: 0 is not a whole number at least 1",
    ),
    (
        raw_rules(
            cancellation=_cancel(
                kind="days_before_first_attendance", days=7, at="closing", counted_from="parent"
            )
        ),
        "test.rules.cancellation.deadline.counted_from: parent is not one of child, period",
    ),
    (None, "test.rules: expected a mapping, found nothing"),
]


@pytest.mark.parametrize(("raw", "message"), PARSE_ERRORS)
def test_parse_errors_name_the_path(raw: Any, message: str) -> None:
    with pytest.raises(StructureConfigError) as error:
        parse_service_rules(raw, where="test.rules")
    assert str(error.value) == message
    assert isinstance(error.value, ValueError)


def test_parse_the_seed_rules() -> None:
    rules = parse_service_rules(raw_rules(), where="test.rules")
    assert rules.starts.isoformat() == "07:30:00" and rules.closes is not None
    assert rules.schedule.weekdays == {0, 1, 3, 4}
    assert rules.capacity == 40 and rules.requires == frozenset() and rules.min_per_week is None
