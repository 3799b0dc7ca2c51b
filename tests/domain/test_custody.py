"""Garde alternée: the foyer's weeks."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.custody import in_custody
from bot.domain.model import Custody


@pytest.mark.parametrize(
    ("custody", "day", "reference", "expected"),
    [
        (Custody.FULL, dt.date(2026, 11, 24), None, True),
        (Custody.ODD_WEEKS, dt.date(2026, 11, 23), None, False),  # ISO week 48
        (Custody.EVEN_WEEKS, dt.date(2026, 11, 29), None, True),  # Sunday of week 48
        (Custody.ODD_WEEKS, dt.date(2026, 11, 30), None, True),  # week 49
        (Custody.ODD_WEEKS, dt.date(2026, 12, 28), None, True),  # week 53 of 2026 …
        (Custody.ODD_WEEKS, dt.date(2027, 1, 4), None, True),  # … and week 1 of 2027: both odd
        (
            Custody.EVEN_WEEKS,
            dt.date(2026, 12, 30),
            dt.date(2026, 11, 23),
            False,
        ),  # 5 weeks after the reference
        (
            Custody.EVEN_WEEKS,
            dt.date(2027, 1, 6),
            dt.date(2026, 11, 23),
            True,
        ),  # 6 weeks after: across the year
        (
            Custody.ODD_WEEKS,
            dt.date(2026, 11, 18),
            dt.date(2026, 11, 25),
            False,
        ),  # the week before the reference
    ],
)
def test_in_custody(
    custody: Custody, day: dt.date, reference: dt.date | None, expected: bool
) -> None:
    assert in_custody(custody, day, reference) is expected
