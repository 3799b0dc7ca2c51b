"""When reminders are due: offsets, grouping of days by cutoff, date reminders (pure)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import Calendar
from bot.domain.reminders import (
    date_reminder_due,
    deadline_groups,
    digest_due,
    due_offset,
    headcount_due,
)
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
    groups = deadline_groups(
        structure.service("cantine"), dt.date(2026, 11, 28), dt.date(2026, 12, 6), calendar=calendar
    )
    assert [(g.deadline, g.days) for g in groups] == [
        (
            DEADLINE,
            (
                dt.date(2026, 11, 30),
                dt.date(2026, 12, 1),
                dt.date(2026, 12, 3),
                dt.date(2026, 12, 4),
            ),
        )
    ]
    assert groups[0].subject(2) == "cantine:20261127T1100:2h"


def test_wednesday_alsh_has_one_cutoff_per_wednesday() -> None:
    structure = load_structure(DEMO_STRUCTURE_FILE)
    groups = deadline_groups(
        structure.service("alsh_mercredi"),
        dt.date(2026, 11, 23),
        dt.date(2026, 12, 6),
        calendar=Calendar("C", tz=PARIS),
    )
    assert [(g.deadline, g.days) for g in groups] == [
        (dt.datetime(2026, 11, 23, 10, 0, tzinfo=PARIS), (dt.date(2026, 11, 25),)),
        (dt.datetime(2026, 11, 30, 10, 0, tzinfo=PARIS), (dt.date(2026, 12, 2),)),
    ]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DEADLINE - dt.timedelta(seconds=1), False),
        (DEADLINE, True),
        (DEADLINE + dt.timedelta(hours=5, minutes=59), True),
        (DEADLINE + dt.timedelta(hours=6), False),
    ],
)
def test_headcount_due_after_the_cutoff(now: dt.datetime, expected: bool) -> None:
    assert headcount_due(DEADLINE, now, dt.timedelta(hours=6)) is expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 11, 26), False),
        (dt.date(2026, 11, 27), True),
        (dt.date(2026, 11, 30), True),
        (dt.date(2026, 12, 1), False),
    ],
)
def test_date_reminder_window(today: dt.date, expected: bool) -> None:
    assert date_reminder_due(dt.date(2026, 11, 30), today, 3) is expected


def test_digest_from_its_hour() -> None:
    assert not digest_due(dt.datetime(2026, 11, 23, 7, 59, tzinfo=PARIS), dt.time(8, 0))
    assert digest_due(dt.datetime(2026, 11, 23, 8, 0, tzinfo=PARIS), dt.time(8, 0))


# --- daytime: what is not urgent waits for decent hours -----------------------------------

from bot.domain.reminders import (  # noqa: E402
    Daytime,
    ReminderLine,
    deferred_until,
    fold_companions,
    next_daytime,
    previous_daytime,
    reminder_moment,
)

DAY = Daytime(dt.time(8, 0), dt.time(20, 0))


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (
            paris(2026, 12, 1, 22, 0),
            paris(2026, 12, 2, 8, 0),
        ),  # the staff digest at 22:00 → next morning
        (
            paris(2026, 12, 1, 0, 0),
            paris(2026, 12, 1, 8, 0),
        ),  # an invoice reminder at midnight → that morning
        (paris(2026, 12, 5, 0, 0, 2), paris(2026, 12, 5, 8, 0)),  # a window opening at 00:00:02
        (paris(2026, 12, 1, 7, 59), paris(2026, 12, 1, 8, 0)),
        (paris(2026, 12, 1, 8, 0), paris(2026, 12, 1, 8, 0)),
        (paris(2026, 12, 1, 20, 0), paris(2026, 12, 1, 20, 0)),  # both ends included
        (paris(2026, 12, 1, 20, 1), paris(2026, 12, 2, 8, 0)),
        (paris(2027, 3, 27, 23, 0), paris(2027, 3, 28, 8, 0)),  # the night the clocks go forward
        (paris(2027, 3, 28, 2, 30), paris(2027, 3, 28, 8, 0)),  # 02:30 does not exist: 03:30 CEST
        (paris(2027, 10, 30, 23, 0), paris(2027, 10, 31, 8, 0)),  # the night the clocks go back
        (paris(2027, 10, 31, 2, 30), paris(2027, 10, 31, 8, 0)),
    ],
)
def test_next_daytime(instant: dt.datetime, expected: dt.datetime) -> None:
    result = next_daytime(instant, DAY, PARIS)
    assert result == expected and result.astimezone(PARIS).time() == expected.time()


def test_next_daytime_on_dst_days_is_eight_local_time_in_utc_terms() -> None:
    assert next_daytime(paris(2027, 3, 28, 1, 0), DAY, PARIS).astimezone(dt.UTC).hour == 6  # CEST
    assert next_daytime(paris(2027, 10, 31, 1, 0), DAY, PARIS).astimezone(dt.UTC).hour == 7  # CET


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (paris(2026, 12, 1, 23, 59), paris(2026, 12, 1, 20, 0)),
        (paris(2026, 12, 2, 6, 0), paris(2026, 12, 1, 20, 0)),
        (paris(2026, 12, 1, 12, 0), paris(2026, 12, 1, 12, 0)),
        (paris(2027, 3, 28, 5, 0), paris(2027, 3, 27, 20, 0)),
    ],
)
def test_previous_daytime(instant: dt.datetime, expected: dt.datetime) -> None:
    assert previous_daytime(instant, DAY, PARIS) == expected


@pytest.mark.parametrize(
    ("moment", "deadline", "expected"),
    [
        # A window closing at 23:59: its 24 h reminder would go at 23:59 the day before → that morning.
        (paris(2026, 12, 3, 23, 59), paris(2026, 12, 4, 23, 59), paris(2026, 12, 4, 8, 0)),
        # its 2 h reminder at 21:59 → the evening before the cutoff, not after it.
        (paris(2026, 12, 4, 21, 59), paris(2026, 12, 4, 23, 59), paris(2026, 12, 4, 20, 0)),
        # a cutoff at 07:00: its 2 h reminder at 05:00 → the evening before.
        (paris(2026, 12, 4, 5, 0), paris(2026, 12, 4, 7, 0), paris(2026, 12, 3, 20, 0)),
        # a cutoff at 10:00: its 2 h reminder at 08:00 stays.
        (paris(2026, 11, 30, 8, 0), paris(2026, 11, 30, 10, 0), paris(2026, 11, 30, 8, 0)),
        # a cutoff at 09:00: the 2 h reminder at 07:00 → 08:00, still before the cutoff.
        (paris(2026, 11, 30, 7, 0), paris(2026, 11, 30, 9, 0), paris(2026, 11, 30, 8, 0)),
    ],
)
def test_a_reminder_at_night_goes_the_next_morning_or_the_evening_before_its_cutoff(
    moment: dt.datetime, deadline: dt.datetime, expected: dt.datetime
) -> None:
    assert reminder_moment(moment, deadline, DAY, PARIS) == expected


def test_due_offset_with_daytime_sends_the_night_reminder_the_evening_before() -> None:
    deadline = paris(2026, 12, 4, 23, 59)
    assert due_offset(deadline, (24, 2), paris(2026, 12, 3, 23, 59), daytime=DAY, tz=PARIS) is None
    assert due_offset(deadline, (24, 2), paris(2026, 12, 4, 8, 0), daytime=DAY, tz=PARIS) == 24
    assert due_offset(deadline, (24, 2), paris(2026, 12, 4, 20, 0), daytime=DAY, tz=PARIS) == 2


@pytest.mark.parametrize(
    ("now", "expires", "expected"),
    [
        (paris(2026, 12, 1, 0, 0), None, paris(2026, 12, 1, 8, 0)),
        (paris(2026, 12, 1, 12, 0), None, paris(2026, 12, 1, 12, 0)),
        (
            paris(2026, 12, 1, 23, 0),
            paris(2026, 12, 1, 23, 59),
            paris(2026, 12, 1, 23, 0),
        ),  # useless by morning: now
        (paris(2026, 12, 1, 23, 0), paris(2026, 12, 10, 0, 0), paris(2026, 12, 2, 8, 0)),
    ],
)
def test_deferred_until(
    now: dt.datetime, expires: dt.datetime | None, expected: dt.datetime
) -> None:
    assert deferred_until(now, expires, DAY, PARIS) == expected


def test_the_digest_is_not_due_after_the_daytime() -> None:
    assert digest_due(paris(2026, 11, 23, 19, 59), dt.time(8, 0), dt.time(20, 0))
    assert not digest_due(paris(2026, 11, 23, 22, 0), dt.time(8, 0), dt.time(20, 0))


# --- one reminder per family and cutoff --------------------------------------------------

TUE = (dt.date(2026, 12, 1),)
EMMA, LUCAS = (1, "EMMA"), (2, "LUCAS")
REQUIRES = {"garderie_soir": frozenset({"gouter"}), "gouter": frozenset({"garderie_soir"})}
ORDER = ["garderie_matin", "garderie_soir", "gouter", "cantine"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (  # the goûter that follows the garderie du soir has no line of its own
            [
                ReminderLine("gouter", TUE, (EMMA, LUCAS)),
                ReminderLine("garderie_soir", TUE, (EMMA, LUCAS)),
            ],
            [ReminderLine("garderie_soir", TUE, (EMMA, LUCAS), ("gouter",))],
        ),
        (  # a child with the goûter but the garderie booked keeps the goûter line
            [
                ReminderLine("garderie_soir", TUE, (EMMA,)),
                ReminderLine("gouter", TUE, (EMMA, LUCAS)),
            ],
            [
                ReminderLine("garderie_soir", TUE, (EMMA,), ("gouter",)),
                ReminderLine("gouter", TUE, (LUCAS,)),
            ],
        ),
        (  # services that are not booked together keep their lines, in the structure's order
            [
                ReminderLine("cantine", TUE, (EMMA,)),
                ReminderLine("garderie_matin", TUE, (EMMA, LUCAS)),
            ],
            [
                ReminderLine("garderie_matin", TUE, (EMMA, LUCAS)),
                ReminderLine("cantine", TUE, (EMMA,)),
            ],
        ),
        ([ReminderLine("gouter", TUE, (EMMA,))], [ReminderLine("gouter", TUE, (EMMA,))]),
    ],
)
def test_fold_companions(lines: list[ReminderLine], expected: list[ReminderLine]) -> None:
    assert fold_companions(lines, REQUIRES, ORDER) == expected
