"""When reminders are due: offsets, grouping of days by cutoff, date reminders (pure)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import Calendar
from bot.domain.reminders import date_reminder_due, deadline_groups, digest_due, due_offset, headcount_due
from bot.settings import DEMO_STRUCTURE_FILE
from bot.structure import load_structure

PARIS = ZoneInfo("Europe/Paris")
DEADLINE = dt.datetime(2026, 11, 27, 12, 0, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DEADLINE - dt.timedelta(hours=24, seconds=1), None),
        (DEADLINE - dt.timedelta(hours=24), 24),
        (DEADLINE - dt.timedelta(hours=2, seconds=1), 24),
        (DEADLINE - dt.timedelta(hours=2), 2),  # the bot was down: only the closest is sent
        (DEADLINE - dt.timedelta(seconds=1), 2),
        (DEADLINE, None),  # too late to be useful
        (DEADLINE + dt.timedelta(hours=1), None),
    ],
)
def test_due_offset(now: dt.datetime, expected: int | None) -> None:
    assert due_offset(DEADLINE, (24, 2), now) == expected


def test_due_offset_across_the_dst_change() -> None:
    # Monday 26 October 2026 10:00 (CET); 24 hours before is Sunday 25 October 10:00 CET,
    # i.e. 25 hours of wall clock after Saturday 10:00 CEST: counted in real hours.
    deadline = dt.datetime(2026, 10, 26, 10, 0, tzinfo=PARIS)
    assert due_offset(deadline, (24,), dt.datetime(2026, 10, 25, 9, 59, tzinfo=PARIS)) is None
    assert due_offset(deadline, (24,), dt.datetime(2026, 10, 25, 10, 0, tzinfo=PARIS)) == 24


def test_a_weekly_cutoff_groups_the_whole_next_week() -> None:
    structure = load_structure(DEMO_STRUCTURE_FILE)
    calendar = Calendar("C", tz=PARIS)
    groups = deadline_groups(structure.service("cantine"), dt.date(2026, 11, 28), dt.date(2026, 12, 6), calendar=calendar)
    assert [(g.deadline, g.days) for g in groups] == [
        (DEADLINE, (dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 3), dt.date(2026, 12, 4)))
    ]
    assert groups[0].subject(2) == "cantine:20261127T1100:2h"


def test_wednesday_alsh_has_one_cutoff_per_wednesday() -> None:
    structure = load_structure(DEMO_STRUCTURE_FILE)
    groups = deadline_groups(structure.service("alsh_mercredi"), dt.date(2026, 11, 23), dt.date(2026, 12, 6), calendar=Calendar("C", tz=PARIS))
    assert [(g.deadline, g.days) for g in groups] == [
        (dt.datetime(2026, 11, 23, 10, 0, tzinfo=PARIS), (dt.date(2026, 11, 25),)),
        (dt.datetime(2026, 11, 30, 10, 0, tzinfo=PARIS), (dt.date(2026, 12, 2),)),
    ]


@pytest.mark.parametrize(
    ("now", "expected"),
    [(DEADLINE - dt.timedelta(seconds=1), False), (DEADLINE, True), (DEADLINE + dt.timedelta(hours=5, minutes=59), True), (DEADLINE + dt.timedelta(hours=6), False)],
)
def test_headcount_due_after_the_cutoff(now: dt.datetime, expected: bool) -> None:
    assert headcount_due(DEADLINE, now, dt.timedelta(hours=6)) is expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [(dt.date(2026, 11, 26), False), (dt.date(2026, 11, 27), True), (dt.date(2026, 11, 30), True), (dt.date(2026, 12, 1), False)],
)
def test_date_reminder_window(today: dt.date, expected: bool) -> None:
    assert date_reminder_due(dt.date(2026, 11, 30), today, 3) is expected


def test_digest_from_its_hour() -> None:
    assert not digest_due(dt.datetime(2026, 11, 23, 7, 59, tzinfo=PARIS), dt.time(8, 0))
    assert digest_due(dt.datetime(2026, 11, 23, 8, 0, tzinfo=PARIS), dt.time(8, 0))
