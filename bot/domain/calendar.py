"""The calendar of a structure: what kind of day a date is, and which services run on it.

A date is, in order of precedence:

* a public holiday ("F jour férié"), from the ``holidays`` package (France, optionally a
  subdivision such as Alsace-Moselle);
* a day of the short school holidays ("P petites vacances") or of the summer holidays
  ("G grandes vacances") of the structure's zone (A, B or C), from the data file shipped inside
  the ``vacances-scolaires-france`` package (read offline: no network access is ever made);
* a weekend day;
* a weekday without school (Wednesday in most communes);
* a school day.

Closures decided by staff are plain data (:class:`Closure`) handed to the :class:`Calendar`.

A service runs on a day when the day is one of its weekdays, falls in a period it runs in
(:class:`Period`), is not a public holiday and is not closed. The module is pure: it never reads
the clock and never touches the network; school-holiday data is loaded once per process and
every look-up is a dictionary access.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo

import holidays
from vacances_scolaires_france import SchoolHolidayDates

__all__ = [
    "DEFAULT_SCHOOL_WEEKDAYS",
    "PARIS",
    "WEEKDAY_CODES",
    "Calendar",
    "Closure",
    "DayKind",
    "NotRunning",
    "Period",
    "SchoolCalendarUnavailableError",
    "SchoolHolidayPeriod",
    "ServiceSchedule",
    "load_school_holidays",
    "local_instant",
]

PARIS: Final = ZoneInfo("Europe/Paris")
"""Time zone of the structures served (metropolitan France, zones A, B and C)."""

WEEKDAY_CODES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Configuration codes of the weekdays, indexed like :meth:`datetime.date.weekday`."""

DEFAULT_SCHOOL_WEEKDAYS: Final = frozenset({0, 1, 3, 4})
"""School weekdays of the four-day week most communes follow: no school on Wednesday."""

_SUMMER_HOLIDAYS_NAME: Final = "Vacances d'été"
_MAX_LOOKBACK_DAYS: Final = 366


class Period(StrEnum):
    """The part of the school year a day belongs to; a service runs in some of them."""

    SCHOOL_TERM = "school_term"
    """Période scolaire: any day outside the school holidays (Wednesdays and weekends too)."""
    SHORT_HOLIDAYS = "short_holidays"
    """Petites vacances: Toussaint, Noël, hiver, printemps, pont de l'Ascension."""
    SUMMER_HOLIDAYS = "summer_holidays"
    """Grandes vacances: the summer holidays."""


class DayKind(StrEnum):
    """What kind of day a date is, for the planning legend."""

    SCHOOL_DAY = "school_day"
    WEEKDAY_WITHOUT_SCHOOL = "weekday_without_school"
    """A weekday in the school term without school (Wednesday in a four-day week)."""
    WEEKEND = "weekend"
    PUBLIC_HOLIDAY = "public_holiday"
    SHORT_HOLIDAYS = "short_holidays"
    SUMMER_HOLIDAYS = "summer_holidays"

    @property
    def legend(self) -> str | None:
        """The seed portal's letter for this kind of day ("F", "P", "G"), or None."""
        return _LEGENDS.get(self)


_LEGENDS: Final = MappingProxyType(
    {DayKind.PUBLIC_HOLIDAY: "F", DayKind.SHORT_HOLIDAYS: "P", DayKind.SUMMER_HOLIDAYS: "G"}
)


class NotRunning(StrEnum):
    """Why a service does not run on a day (checked in this order)."""

    CLOSURE = "closure"
    """Staff closed the structure or this service that day."""
    PUBLIC_HOLIDAY = "public_holiday"
    SCHOOL_HOLIDAYS = "school_holidays"
    """The day is in school holidays and the service does not run in these holidays."""
    SCHOOL_TERM = "school_term"
    """The day is in the school term and the service runs only in holidays."""
    WEEKDAY = "weekday"
    """The service does not run on this day of the week."""


class SchoolCalendarUnavailableError(LookupError):
    """The shipped school-holiday data does not cover the requested year."""


@dataclass(frozen=True)
class Closure:
    """A day staff closed, for one service (``service_code``) or for all (None)."""

    day: date
    service_code: str | None
    reason: str

    def applies_to(self, service_code: str | None) -> bool:
        """Whether this closure closes the given service (None: the whole structure)."""
        return self.service_code is None or self.service_code == service_code


@dataclass(frozen=True)
class SchoolHolidayPeriod:
    """One school-holiday period of a zone, both ends included (Saturday to Sunday)."""

    name: str
    start: date
    end: date
    period: Period

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def days(self) -> Iterator[date]:
        """Every date of the period, in order."""
        return _date_range(self.start, self.end)


@dataclass(frozen=True)
class ServiceSchedule:
    """When a service runs: its weekdays (0 = Monday) and the periods it runs in."""

    weekdays: frozenset[int]
    periods: frozenset[Period]


@dataclass(frozen=True)
class _SchoolHolidayTable:
    by_day: Mapping[date, SchoolHolidayPeriod]
    first_year: int
    last_year: int


def local_instant(day: date, at: time, tz: tzinfo = PARIS) -> datetime:
    """The aware instant at which the wall clock of ``tz`` first shows ``at`` on ``day``.

    An ambiguous time (the repeated hour in October) gives its first occurrence; a time that
    does not exist (the skipped hour in March) gives the instant the clock jumps over it.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz)
    if _wall(first.astimezone(UTC), tz) == naive:
        return first
    return _clock_jump(naive, tz)


def _wall(instant: datetime, tz: tzinfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _clock_jump(naive: datetime, tz: tzinfo) -> datetime:
    """The first instant whose wall time in ``tz`` is at or after ``naive`` (a skipped time)."""
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)  # wall time still before ``naive``
    high = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)  # wall time already after it
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if _wall(middle, tz) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0).astimezone(tz)


def _date_range(first: date, last: date) -> Iterator[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


@cache
def load_school_holidays(zone: str) -> tuple[SchoolHolidayPeriod, ...]:
    """The school-holiday periods of ``zone`` ("A", "B" or "C") in the shipped data, in order."""
    return tuple(sorted(set(_school_holiday_table(zone).by_day.values()), key=lambda p: p.start))


@cache
def _school_holiday_table(zone: str) -> _SchoolHolidayTable:
    if zone not in SchoolHolidayDates.SUPPORTED_ZONES:
        raise ValueError(f"unknown school holiday zone {zone!r}: expected A, B or C")
    source = _school_holiday_source()
    days = sorted(day for day in source.data if source.is_holiday_for_zone(day, zone))
    by_day = {day: period for period in _group_periods(days, source) for day in period.days()}
    return _SchoolHolidayTable(MappingProxyType(by_day), source.min_year, source.max_year)


@cache
def _school_holiday_source() -> SchoolHolidayDates:
    return SchoolHolidayDates()  # reads the CSV shipped inside the package


def _group_periods(days: list[date], source: SchoolHolidayDates) -> list[SchoolHolidayPeriod]:
    """Group consecutive holiday days (in order) bearing the same name into periods."""
    periods: list[SchoolHolidayPeriod] = []
    for day in days:
        name = _holiday_name(source, day)
        last = periods[-1] if periods else None
        if last is not None and last.name == name and day - last.end == timedelta(days=1):
            periods[-1] = replace(last, end=day)
        else:
            periods.append(_make_period(name, day, day))
    return periods


def _holiday_name(source: SchoolHolidayDates, day: date) -> str:
    return str(source.data[day]["nom_vacances"])


def _make_period(name: str, start: date, end: date) -> SchoolHolidayPeriod:
    kind = Period.SUMMER_HOLIDAYS if name == _SUMMER_HOLIDAYS_NAME else Period.SHORT_HOLIDAYS
    return SchoolHolidayPeriod(name=name, start=start, end=end, period=kind)


@cache
def _public_holidays(subdiv: str | None, year: int) -> Mapping[date, str]:
    found = holidays.country_holidays("FR", subdiv=subdiv, years=year, language="fr")
    return MappingProxyType(dict(found))


def preload(zone: str, subdiv: str | None, year: int) -> None:
    """Read the shipped holiday data now (about two seconds), not during the first parent's tap."""
    _school_holiday_table(zone)
    for around in (year - 1, year, year + 1):
        _public_holidays(subdiv, around)


class Calendar:
    """The calendar of one structure: its school-holiday zone, public holidays and closures."""

    __slots__ = ("_closures", "_school", "_school_weekdays", "_subdiv", "tz", "zone")

    def __init__(
        self,
        zone: str,
        *,
        closures: Iterable[Closure] = (),
        school_weekdays: Iterable[int] = DEFAULT_SCHOOL_WEEKDAYS,
        subdiv: str | None = None,
        tz: tzinfo = PARIS,
    ) -> None:
        """Build the calendar of a structure in school zone ``zone`` ("A", "B" or "C").

        ``subdiv`` is a ``holidays`` subdivision of France (e.g. "57" for Moselle) when the
        structure has local public holidays; ``school_weekdays`` the days with school.
        """
        self.zone = zone
        self.tz = tz
        self._school = _school_holiday_table(zone)
        self._subdiv = subdiv
        self._school_weekdays = frozenset(school_weekdays)
        by_day: dict[date, list[Closure]] = {}
        for closure in closures:
            by_day.setdefault(closure.day, []).append(closure)
        self._closures = {day: tuple(found) for day, found in by_day.items()}

    def covers(self, day: date) -> bool:
        """Whether the shipped school-holiday data covers ``day``'s year."""
        return self._school.first_year <= day.year <= self._school.last_year

    def public_holiday(self, day: date) -> str | None:
        """The French name of the public holiday on ``day`` ("Lundi de Pâques"), or None."""
        return _public_holidays(self._subdiv, day.year).get(day)

    def school_holidays(self, day: date) -> SchoolHolidayPeriod | None:
        """The school-holiday period of the zone containing ``day``, or None in term time.

        Raises :class:`SchoolCalendarUnavailableError` outside the shipped data's years.
        """
        if not self.covers(day):
            raise SchoolCalendarUnavailableError(
                f"no school holiday data for {day.year} (zone {self.zone}): "
                f"update vacances-scolaires-france"
            )
        return self._school.by_day.get(day)

    def period(self, day: date) -> Period:
        """The part of the school year ``day`` belongs to."""
        holidays_period = self.school_holidays(day)
        return Period.SCHOOL_TERM if holidays_period is None else holidays_period.period

    def day_kind(self, day: date) -> DayKind:
        """What kind of day ``day`` is, for the planning legend."""
        if self.public_holiday(day) is not None:
            return DayKind.PUBLIC_HOLIDAY
        period = self.period(day)
        if period is Period.SHORT_HOLIDAYS:
            return DayKind.SHORT_HOLIDAYS
        if period is Period.SUMMER_HOLIDAYS:
            return DayKind.SUMMER_HOLIDAYS
        if day.weekday() >= 5:
            return DayKind.WEEKEND
        if day.weekday() in self._school_weekdays:
            return DayKind.SCHOOL_DAY
        return DayKind.WEEKDAY_WITHOUT_SCHOOL

    def closure(self, day: date, service_code: str | None = None) -> Closure | None:
        """The staff closure closing ``service_code`` (None: the whole structure) on ``day``."""
        found = (c for c in self._closures.get(day, ()) if c.applies_to(service_code))
        return next(found, None)

    def why_not_running(
        self, service_code: str, schedule: ServiceSchedule, day: date
    ) -> NotRunning | None:
        """Why the service does not run on ``day``, or None when it runs."""
        if self.closure(day, service_code) is not None:
            return NotRunning.CLOSURE
        if self.public_holiday(day) is not None:
            return NotRunning.PUBLIC_HOLIDAY
        period = self.period(day)
        if period not in schedule.periods:
            return (
                NotRunning.SCHOOL_TERM
                if period is Period.SCHOOL_TERM
                else NotRunning.SCHOOL_HOLIDAYS
            )
        if day.weekday() not in schedule.weekdays:
            return NotRunning.WEEKDAY
        return None

    def runs(self, service_code: str, schedule: ServiceSchedule, day: date) -> bool:
        """Whether the service runs on ``day``."""
        return self.why_not_running(service_code, schedule, day) is None

    def service_days(
        self, service_code: str, schedule: ServiceSchedule, first: date, last: date
    ) -> tuple[date, ...]:
        """The days from ``first`` to ``last`` (both included) on which the service runs."""
        return tuple(
            day for day in _date_range(first, last) if self.runs(service_code, schedule, day)
        )

    def previous_service_day(
        self,
        service_code: str,
        schedule: ServiceSchedule,
        day: date,
        *,
        max_days_back: int | None = None,
    ) -> date | None:
        """The last day before ``day`` on which the service runs, at most ``max_days_back`` back.

        Monday → the previous Friday; Thursday → Tuesday when the service does not run on
        Wednesday; the first day after the holidays → the last day before them. None when the
        service did not run within ``max_days_back`` days (default: a year).
        """
        for back in range(1, (max_days_back or _MAX_LOOKBACK_DAYS) + 1):
            candidate = day - timedelta(days=back)
            if self.runs(service_code, schedule, candidate):
                return candidate
        return None

    def first_attendance_day(
        self, service_code: str, schedule: ServiceSchedule, day: date
    ) -> date | None:
        """The first day the service runs in the school-holiday period containing ``day``.

        None when ``day`` is not in school holidays or the service never runs in that period.
        """
        period = self.school_holidays(day)
        if period is None:
            return None
        running = (d for d in period.days() if self.runs(service_code, schedule, d))
        return next(running, None)
