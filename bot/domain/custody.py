"""Garde alternée: which weeks a child is in a foyer's care.

A child may belong to two foyers. Each foyer's link says `full` (every week), or alternating
weeks: `odd_weeks` / `even_weeks` by ISO week number, or — more robust across years with 53
ISO weeks — from a reference Monday: that week is the foyer's, and every other week after and
before it.
"""

from __future__ import annotations

import datetime as dt

from bot.domain.model import Custody


def monday_of(day: dt.date) -> dt.date:
    """The Monday of the day's week."""
    return day - dt.timedelta(days=day.weekday())


def in_custody(custody: Custody, day: dt.date, reference_monday: dt.date | None = None) -> bool:
    """Whether the day falls in one of the foyer's weeks."""
    if custody == Custody.FULL:
        return True
    if reference_monday is not None:
        weeks = (monday_of(day) - monday_of(reference_monday)).days // 7
        return weeks % 2 == 0
    odd = day.isocalendar().week % 2 == 1
    return odd if custody == Custody.ODD_WEEKS else not odd
