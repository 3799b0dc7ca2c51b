"""What is wrong with what a staff member typed, in words: "31/02/2027 n'existe pas".

The parsing is pure (`bot.domain.staff_input`); this module words its problems in the current
language.
"""

from __future__ import annotations

import datetime as dt

from bot.domain.staff_input import Problem, day_problem
from bot.i18n import _
from conversations.common import escape


def day_error(text: str, today: dt.date) -> str:
    """Why `text` is not a day, for a staff member."""
    if day_problem(text, today) == Problem.NO_SUCH_DAY:
        return _("{text} does not exist.").format(text=escape(text))
    return _(
        "“{text}” is not a date: write 24/11/2026, 24/11, demain, jeudi or 3 décembre."
    ).format(text=escape(text))


def month_error(text: str) -> str:
    """Why `text` is not a month, for a staff member."""
    return _("“{text}” is not a month: write novembre, novembre 2026 or 2026-11.").format(
        text=escape(text)
    )


def unknown_choice_error(what: str, text: str, choices: list[str]) -> str:
    """A word that names none of the allowed ones: "mode inconnu : bitcoin — modes : chèque, …".

    `what` is the translated name of the thing ("mode", "service").
    """
    return _("Unknown {what}: {text} — choose one of: {choices}").format(
        what=what, text=escape(text), choices=escape(", ".join(choices))
    )
