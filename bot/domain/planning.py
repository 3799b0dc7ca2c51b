"""The planning as the seed portal shows it: one mark per day, and the legend.

Pure: given the calendar's kind of day, whether it is closed, and the statuses of a child's
services that day, `day_mark` chooses the one mark a calendar cell shows. The most urgent
information wins (a pending request before a plain booking).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.calendar import DayKind
from bot.domain.model import DayStatus


class Mark(StrEnum):
    """The marks of the planning legend (seed portal words in comments)."""

    BOOKING_PROCESSING = "⏳"  # réservation en cours de traitement
    ABSENCE_PROCESSING = "⌛"  # absence en cours de traitement
    WAITING = "🕒"  # demande en attente (liste d'attente)
    REFUSED = "❌"  # réservation refusée
    ABSENT_BILLED = "💶"  # absent facturé
    ABSENT_EXCUSED = "🩹"  # absent excusé
    PRESENT = "🟢"  # présent
    RESERVED = "✅"  # réservé
    REGULAR = "🔁"  # régulier
    CLOSURE = "🚫"  # fermeture
    OTHER_HOUSEHOLD = "↔"  # garde alternée: the other foyer's week
    PUBLIC_HOLIDAY = "F"  # jour férié
    SHORT_HOLIDAYS = "P"  # petites vacances
    SUMMER_HOLIDAYS = "G"  # grandes vacances


_STATUS_MARKS: dict[DayStatus, Mark] = {
    DayStatus.BOOKING_PROCESSING: Mark.BOOKING_PROCESSING,
    DayStatus.ABSENCE_PROCESSING: Mark.ABSENCE_PROCESSING,
    DayStatus.PENDING: Mark.WAITING,
    DayStatus.BOOKING_REFUSED: Mark.REFUSED,
    DayStatus.ABSENT_BILLED: Mark.ABSENT_BILLED,
    DayStatus.ABSENT_EXCUSED: Mark.ABSENT_EXCUSED,
    DayStatus.PRESENT: Mark.PRESENT,
    DayStatus.RESERVED: Mark.RESERVED,
    DayStatus.REGULAR: Mark.REGULAR,
}
# Order of precedence when a day has several services with different statuses.
_PRECEDENCE: tuple[Mark, ...] = (
    Mark.BOOKING_PROCESSING,
    Mark.ABSENCE_PROCESSING,
    Mark.WAITING,
    Mark.REFUSED,
    Mark.ABSENT_BILLED,
    Mark.ABSENT_EXCUSED,
    Mark.PRESENT,
    Mark.RESERVED,
    Mark.REGULAR,
)
_KIND_MARKS: dict[DayKind, Mark] = {
    DayKind.PUBLIC_HOLIDAY: Mark.PUBLIC_HOLIDAY,
    DayKind.SHORT_HOLIDAYS: Mark.SHORT_HOLIDAYS,
    DayKind.SUMMER_HOLIDAYS: Mark.SUMMER_HOLIDAYS,
}


def status_mark(status: DayStatus) -> Mark | None:
    """The mark of one service's status (None for a cancelled booking)."""
    return _STATUS_MARKS.get(status)


def day_mark(
    kind: DayKind,
    closed: bool,
    statuses: Iterable[DayStatus],
    waiting: bool = False,
    other_household: bool = False,
) -> Mark | None:
    """The one mark of a calendar cell: the child's most urgent status, else the kind of day
    (or, in garde alternée, that the week is the other foyer's)."""
    marks = {mark for mark in (status_mark(s) for s in statuses) if mark is not None}
    if waiting:
        marks.add(Mark.WAITING)
    for mark in _PRECEDENCE:
        if mark in marks:
            return mark
    if kind == DayKind.PUBLIC_HOLIDAY:
        return Mark.PUBLIC_HOLIDAY
    if closed:
        return Mark.CLOSURE
    if other_household and kind not in _KIND_MARKS:
        return Mark.OTHER_HOUSEHOLD
    return _KIND_MARKS.get(kind)


@dataclass(frozen=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def of(cls, day: dt.date) -> Month:
        """The month containing a day."""
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> Month | None:
        """A month from "YYYYMM", or None when malformed."""
        if len(text) != 6 or not text.isdigit() or not 1 <= int(text[4:]) <= 12:
            return None
        return cls(int(text[:4]), int(text[4:]))

    def code(self) -> str:
        """ "YYYYMM", for callback data."""
        return f"{self.year:04d}{self.month:02d}"

    def first_day(self) -> dt.date:
        """The 1st of the month."""
        return dt.date(self.year, self.month, 1)

    def last_day(self) -> dt.date:
        """The last day of the month."""
        return self.shift(1).first_day() - dt.timedelta(days=1)

    def shift(self, months: int) -> Month:
        """The month `months` later (or earlier, when negative)."""
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def weeks(self) -> Iterator[list[dt.date | None]]:
        """The month as weeks Monday to Sunday, with None outside the month."""
        first = self.first_day()
        cursor = first - dt.timedelta(days=first.weekday())
        last = self.last_day()
        while cursor <= last:
            yield [
                cursor + dt.timedelta(days=i)
                if (cursor + dt.timedelta(days=i)).month == self.month
                else None
                for i in range(7)
            ]
            cursor += dt.timedelta(days=7)


def parse_day(text: str) -> dt.date | None:
    """A date from "YYYYMMDD", or None when malformed."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def day_code(day: dt.date) -> str:
    """ "YYYYMMDD", for callback data."""
    return day.strftime("%Y%m%d")
