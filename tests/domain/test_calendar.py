"""The structure's calendar: kinds of day, school holidays by zone, closures, service days."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

import pytest

from bot.domain.calendar import (
    PARIS,
    Calendar,
    Closure,
    DayKind,
    NotRunning,
    Period,
    SchoolCalendarUnavailableError,
    ServiceSchedule,
    load_school_holidays,
    local_instant,
)

from . import utc

ZONE_C = Calendar("C")
TERM_SCHOOL_DAYS = ServiceSchedule(frozenset({0, 1, 3, 4}), frozenset({Period.SCHOOL_TERM}))
HOLIDAY_WEEKDAYS = ServiceSchedule(
    frozenset(range(5)), frozenset({Period.SHORT_HOLIDAYS, Period.SUMMER_HOLIDAYS})
)


@pytest.mark.parametrize(
    ("zone", "day", "kind"),
    [
        ("C", date(2026, 3, 10), DayKind.SCHOOL_DAY),  # Tuesday
        ("C", date(2026, 3, 11), DayKind.WEEKDAY_WITHOUT_SCHOOL),  # Wednesday
        ("C", date(2026, 3, 14), DayKind.WEEKEND),
        ("C", date(2026, 3, 15), DayKind.WEEKEND),
        ("C", date(2026, 4, 6), DayKind.PUBLIC_HOLIDAY),  # Lundi de Pâques, in term for zone C
        ("C", date(2026, 7, 14), DayKind.PUBLIC_HOLIDAY),  # in the summer holidays: F wins
        ("C", date(2026, 4, 17), DayKind.SCHOOL_DAY),  # last day before spring holidays
        ("C", date(2026, 4, 18), DayKind.SHORT_HOLIDAYS),  # Saturday, first day of holidays
        ("C", date(2026, 4, 22), DayKind.SHORT_HOLIDAYS),
        ("C", date(2026, 5, 3), DayKind.SHORT_HOLIDAYS),  # Sunday, last day
        ("C", date(2026, 5, 4), DayKind.SCHOOL_DAY),
        ("A", date(2026, 4, 9), DayKind.SHORT_HOLIDAYS),  # zone A is on holiday earlier
        ("C", date(2026, 4, 9), DayKind.SCHOOL_DAY),
        ("B", date(2026, 2, 23), DayKind.SHORT_HOLIDAYS),  # winter holidays differ by zone
        ("A", date(2026, 2, 23), DayKind.SCHOOL_DAY),
        ("C", date(2026, 7, 20), DayKind.SUMMER_HOLIDAYS),
        ("C", date(2026, 8, 31), DayKind.SUMMER_HOLIDAYS),
        ("C", date(2026, 9, 1), DayKind.SCHOOL_DAY),  # rentrée
        ("C", date(2027, 5, 7), DayKind.SHORT_HOLIDAYS),  # pont de l'Ascension
    ],
)
def test_day_kind(zone: str, day: date, kind: DayKind) -> None:
    assert Calendar(zone).day_kind(day) is kind


def test_wednesday_is_a_school_day_where_school_has_five_days() -> None:
    assert Calendar("C", school_weekdays={0, 1, 2, 3, 4}).day_kind(date(2026, 3, 11)) is (
        DayKind.SCHOOL_DAY
    )


@pytest.mark.parametrize(
    ("kind", "legend"),
    [
        (DayKind.PUBLIC_HOLIDAY, "F"),
        (DayKind.SHORT_HOLIDAYS, "P"),
        (DayKind.SUMMER_HOLIDAYS, "G"),
        (DayKind.SCHOOL_DAY, None),
        (DayKind.WEEKEND, None),
    ],
)
def test_legend_letters(kind: DayKind, legend: str | None) -> None:
    assert kind.legend == legend


@pytest.mark.parametrize(
    ("subdiv", "day", "name"),
    [
        (None, date(2026, 4, 6), "Lundi de Pâques"),
        (None, date(2026, 5, 14), "Ascension"),
        (None, date(2026, 5, 25), "Lundi de Pentecôte"),
        (None, date(2026, 4, 3), None),  # Vendredi saint: only in Alsace-Moselle
        ("57", date(2026, 4, 3), "Vendredi saint"),
        ("57", date(2026, 12, 26), "Saint-Étienne"),
        (None, date(2026, 3, 10), None),
    ],
)
def test_public_holidays(subdiv: str | None, day: date, name: str | None) -> None:
    assert Calendar("C", subdiv=subdiv).public_holiday(day) == name


@pytest.mark.parametrize(
    ("day", "name", "start", "end", "period"),
    [
        (
            date(2025, 10, 20),
            "Vacances de la Toussaint",
            date(2025, 10, 18),
            date(2025, 11, 2),
            Period.SHORT_HOLIDAYS,
        ),
        (
            date(2026, 1, 1),
            "Vacances de Noël",
            date(2025, 12, 20),
            date(2026, 1, 4),
            Period.SHORT_HOLIDAYS,
        ),
        (
            date(2026, 3, 1),
            "Vacances d'hiver",
            date(2026, 2, 21),
            date(2026, 3, 8),
            Period.SHORT_HOLIDAYS,
        ),
        (
            date(2026, 8, 1),
            "Vacances d'été",
            date(2026, 7, 4),
            date(2026, 8, 31),
            Period.SUMMER_HOLIDAYS,
        ),
    ],
)
def test_school_holiday_periods_of_zone_c(
    day: date, name: str, start: date, end: date, period: Period
) -> None:
    found = ZONE_C.school_holidays(day)
    assert found is not None
    assert (found.name, found.start, found.end, found.period) == (name, start, end, period)
    assert ZONE_C.period(day) is period


def test_term_days_have_no_school_holiday_period() -> None:
    assert ZONE_C.school_holidays(date(2026, 3, 10)) is None
    assert ZONE_C.period(date(2026, 3, 10)) is Period.SCHOOL_TERM


def test_school_holiday_table_is_loaded_once_and_ordered() -> None:
    periods = load_school_holidays("C")
    assert periods is load_school_holidays("C")
    assert all(a.end < b.start for a, b in pairwise(periods))


def test_years_outside_the_shipped_data_are_refused_loudly() -> None:
    assert not ZONE_C.covers(date(2040, 3, 6))
    with pytest.raises(SchoolCalendarUnavailableError, match="2040"):
        ZONE_C.day_kind(date(2040, 3, 6))


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="zone"):
        Calendar("D")


def test_school_holidays_load_without_network() -> None:
    """The package reads its shipped CSV: a process where every connection fails still works."""
    script = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network disabled in this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from datetime import date
        from bot.domain.calendar import Calendar
        print(Calendar("B").school_holidays(date(2026, 2, 23)).name)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Vacances d'hiver"


CLOSURES = Calendar(
    "C",
    closures=[
        Closure(date(2026, 3, 13), None, "Grève"),
        Closure(date(2026, 3, 16), "cantine", "Panne de cuisine"),
        Closure(date(2026, 4, 6), None, "Pont"),
    ],
)


@pytest.mark.parametrize(
    ("code", "schedule", "day", "why"),
    [
        ("garderie", TERM_SCHOOL_DAYS, date(2026, 3, 12), None),
        ("garderie", TERM_SCHOOL_DAYS, date(2026, 3, 13), NotRunning.CLOSURE),  # for all
        ("cantine", TERM_SCHOOL_DAYS, date(2026, 3, 16), NotRunning.CLOSURE),  # for cantine
        ("garderie", TERM_SCHOOL_DAYS, date(2026, 3, 16), None),
        ("garderie", TERM_SCHOOL_DAYS, date(2026, 4, 6), NotRunning.CLOSURE),  # closure first
        ("garderie", TERM_SCHOOL_DAYS, date(2026, 5, 14), NotRunning.PUBLIC_HOLIDAY),
        ("garderie", TERM_SCHOOL_DAYS, date(2026, 4, 21), NotRunning.SCHOOL_HOLIDAYS),
        ("garderie", TERM_SCHOOL_DAYS, date(2026, 3, 11), NotRunning.WEEKDAY),
        ("garderie", TERM_SCHOOL_DAYS, date(2026, 3, 14), NotRunning.WEEKDAY),
        ("alsh", HOLIDAY_WEEKDAYS, date(2026, 3, 11), NotRunning.SCHOOL_TERM),
        ("alsh", HOLIDAY_WEEKDAYS, date(2026, 4, 22), None),
        ("alsh", HOLIDAY_WEEKDAYS, date(2026, 7, 14), NotRunning.PUBLIC_HOLIDAY),
        ("alsh", HOLIDAY_WEEKDAYS, date(2026, 4, 25), NotRunning.WEEKDAY),
    ],
)
def test_why_a_service_does_not_run(
    code: str, schedule: ServiceSchedule, day: date, why: NotRunning | None
) -> None:
    assert CLOSURES.why_not_running(code, schedule, day) is why
    assert CLOSURES.runs(code, schedule, day) is (why is None)


def test_closure_lookup_names_the_reason() -> None:
    closure = CLOSURES.closure(date(2026, 3, 16), "cantine")
    assert closure is not None and closure.reason == "Panne de cuisine"
    assert CLOSURES.closure(date(2026, 3, 16)) is None  # the structure itself is open
    assert CLOSURES.closure(date(2026, 3, 13)) is not None


@pytest.mark.parametrize(
    ("day", "previous"),
    [
        (date(2026, 3, 16), date(2026, 3, 13)),  # Monday → Friday
        (date(2026, 3, 9), date(2026, 2, 20)),  # Monday after the winter holidays
        (date(2026, 3, 10), date(2026, 3, 9)),  # Tuesday → Monday
        (date(2026, 3, 12), date(2026, 3, 10)),  # Thursday → Tuesday (no Wednesday)
        (date(2026, 3, 13), date(2026, 3, 12)),  # Friday → Thursday
        (date(2026, 4, 7), date(2026, 4, 3)),  # Tuesday after Lundi de Pâques → Friday
        (date(2026, 5, 4), date(2026, 4, 17)),  # after the spring holidays → last day before
        (date(2026, 9, 1), date(2026, 7, 3)),  # rentrée → last day of the previous year
        (date(2026, 5, 15), date(2026, 5, 12)),  # Friday after Ascension → Tuesday
    ],
)
def test_previous_service_day(day: date, previous: date) -> None:
    assert ZONE_C.previous_service_day("garderie", TERM_SCHOOL_DAYS, day) == previous


def test_previous_service_day_skips_closures_of_that_service_only() -> None:
    assert CLOSURES.previous_service_day("garderie", TERM_SCHOOL_DAYS, date(2026, 3, 16)) == date(
        2026, 3, 12
    )
    assert CLOSURES.previous_service_day("cantine", TERM_SCHOOL_DAYS, date(2026, 3, 17)) == date(
        2026, 3, 12
    )


def test_previous_service_day_gives_up_beyond_the_limit() -> None:
    monday_after_holidays = date(2026, 5, 4)
    assert (
        ZONE_C.previous_service_day(
            "garderie", TERM_SCHOOL_DAYS, monday_after_holidays, max_days_back=7
        )
        is None
    )


@pytest.mark.parametrize(
    ("calendar", "day", "first"),
    [
        (ZONE_C, date(2026, 10, 28), date(2026, 10, 19)),  # Toussaint 2026
        (ZONE_C, date(2026, 12, 30), date(2026, 12, 21)),  # Noël 2026
        (ZONE_C, date(2026, 7, 4), date(2026, 7, 6)),  # summer: first Monday
        (
            Calendar("C", closures=[Closure(date(2026, 10, 19), "alsh", "Fermé")]),
            date(2026, 10, 28),
            date(2026, 10, 20),
        ),
        (ZONE_C, date(2026, 11, 4), None),  # term time
    ],
)
def test_first_attendance_day(calendar: Calendar, day: date, first: date | None) -> None:
    assert calendar.first_attendance_day("alsh", HOLIDAY_WEEKDAYS, day) == first


def test_service_days_of_a_month() -> None:
    days = ZONE_C.service_days("garderie", TERM_SCHOOL_DAYS, date(2026, 4, 1), date(2026, 4, 30))
    # April 2026, zone C: holidays from the 18th; Easter Monday the 6th; no Wednesdays.
    assert [d.day for d in days] == [2, 3, 7, 9, 10, 13, 14, 16, 17]


@pytest.mark.parametrize(
    ("day", "at", "expected"),
    [
        (date(2026, 3, 27), time(18, 30), utc(2026, 3, 27, 17, 30)),  # Friday before DST: CET
        (date(2026, 3, 29), time(9, 0), utc(2026, 3, 29, 7, 0)),  # DST day, after the change
        (date(2026, 3, 29), time(1, 30), utc(2026, 3, 29, 0, 30)),  # DST day, before the change
        (date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 0)),  # skipped: the jump, 03:00
        (date(2026, 10, 25), time(9, 0), utc(2026, 10, 25, 8, 0)),  # back to CET
        (date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),  # repeated: the first one
        (date(2026, 10, 24), time(18, 30), utc(2026, 10, 24, 16, 30)),  # CEST the day before
    ],
)
def test_local_instant_across_dst(day: date, at: time, expected: datetime) -> None:
    instant = local_instant(day, at)
    assert instant.astimezone(UTC) == expected  # `==` across zones is False on a DST fold
    assert instant.tzinfo is PARIS


def test_local_instant_is_never_before_the_wall_time() -> None:
    day = date(2026, 3, 29)
    for minutes in range(0, 24 * 60, 15):
        at = time(minutes // 60, minutes % 60)
        wall = local_instant(day, at).astimezone(PARIS).replace(tzinfo=None)
        assert wall >= datetime.combine(day, at)
        assert wall - datetime.combine(day, at) <= timedelta(hours=1)
