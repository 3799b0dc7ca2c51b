"""What staff type after their commands: a day, a N° famille, a service. Pure parsing, no I/O.

Staff write dates the French way ("24/11/2026", "24/11", "demain"); a day without a year is
the next such day from today, so "05/01" typed in December means January.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

_DAY_WORDS = {
    "aujourd'hui": 0,
    "aujourd’hui": 0,
    "aujourdhui": 0,
    "today": 0,
    "demain": 1,
    "tomorrow": 1,
    "après-demain": 2,
    "apres-demain": 2,
}
_NUMERIC_DAY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_FAMILY_NUMBER = re.compile(r"^\d{6,20}$")


def parse_day(text: str, today: dt.date) -> dt.date | None:
    """A day from "24/11/2026", "24/11/26", "24/11", "2026-11-24", "demain"…; None if not one."""
    value = text.strip().lower()
    if value in _DAY_WORDS:
        return today + dt.timedelta(days=_DAY_WORDS[value])
    iso = _ISO_DAY.match(value)
    if iso:
        return _date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    numeric = _NUMERIC_DAY.match(value)
    if numeric is None:
        return None
    day, month, year_text = int(numeric.group(1)), int(numeric.group(2)), numeric.group(3)
    if year_text is not None:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        return _date(year, month, day)
    candidate = _date(today.year, month, day)
    if candidate is not None and candidate < today:
        candidate = _date(today.year + 1, month, day)
    return candidate


MONTH_WORDS: dict[str, int] = {
    "janvier": 1,
    "janv": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}
WEEKDAY_WORDS: dict[str, int] = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
}
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.-](\d{4})$")


def _fold(value: str) -> str:
    """Lower case without accents nor trailing dot: "Décembre" → "decembre", "févr." → "fevr"."""
    decomposed = unicodedata.normalize("NFKD", value.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).rstrip(".")


def parse_day_words(text: str, today: dt.date) -> dt.date | None:
    """A day as staff write it: what `parse_day` reads, or French words.

    "3 décembre", "3 décembre 2026", "jeudi 3 décembre", "jeudi" (the next Thursday, today
    included), "1er mars"; a day without a year is the next such day from today.
    """
    numeric = parse_day(text, today)
    if numeric is not None:
        return numeric
    words = [_fold(word) for word in text.replace(",", " ").split()]
    if words and words[0] in WEEKDAY_WORDS:
        weekday, words = WEEKDAY_WORDS[words[0]], words[1:]
        if not words:
            return today + dt.timedelta(days=(weekday - today.weekday()) % 7)
    if len(words) not in (2, 3) or words[1] not in MONTH_WORDS:
        return None
    day_text = words[0].removesuffix("er")
    if not day_text.isdigit():
        return None
    day, month = int(day_text), MONTH_WORDS[words[1]]
    if len(words) == 3:
        return (
            _date(int(words[2]), month, day) if words[2].isdigit() and len(words[2]) == 4 else None
        )
    candidate = _date(today.year, month, day)
    if candidate is not None and candidate < today:
        candidate = _date(today.year + 1, month, day)
    return candidate


def parse_month_words(text: str, today: dt.date) -> tuple[int, int] | None:
    """A month to invoice: "2026-11", "11/2026", "novembre 2026", or "novembre" (the latest
    November not after this month: in December 2026, November 2026; in January, last November).
    Returns (year, month), or None."""
    value = _fold(" ".join(text.split()))
    for pattern, year_first in ((_YEAR_MONTH, True), (_MONTH_YEAR, False)):
        match = pattern.match(value)
        if match:
            year, month = (
                (int(match.group(1)), int(match.group(2)))
                if year_first
                else (int(match.group(2)), int(match.group(1)))
            )
            return (year, month) if 1 <= month <= 12 else None
    words = value.split()
    if not words or words[0] not in MONTH_WORDS:
        return None
    month = MONTH_WORDS[words[0]]
    if len(words) == 2:
        return (int(words[1]), month) if words[1].isdigit() and len(words[1]) == 4 else None
    if len(words) != 1:
        return None
    return (today.year, month) if month <= today.month else (today.year - 1, month)


def split_trailing_day(words: list[str], today: dt.date) -> tuple[list[str], dt.date | None]:
    """Words ending with a day ("DUPONT 3 décembre"): the words before it and the day (the
    longest trailing words naming a day win); (words, None) when they do not end with one."""
    for size in (4, 3, 2, 1):
        if len(words) > size:
            day = parse_day_words(" ".join(words[-size:]), today)
            if day is not None:
                return words[:-size], day
    return words, None


class Problem(StrEnum):
    """Why a word typed after a command is not understood (the handler words the answer)."""

    NO_SUCH_DAY = "no_such_day"  # "31/02/2027": a date's shape, but no such day
    NOT_A_DAY = "not_a_day"  # "blabla"


def day_problem(text: str, today: dt.date) -> Problem | None:
    """Why `text` is not a day (None when it is one)."""
    if parse_day_words(text, today) is not None:
        return None
    value = text.strip()
    if _NUMERIC_DAY.match(value) or _ISO_DAY.match(value):
        return Problem.NO_SUCH_DAY
    words = [_fold(word) for word in value.split()]
    if any(word in MONTH_WORDS for word in words) and any(
        w.removesuffix("er").isdigit() for w in words
    ):
        return Problem.NO_SUCH_DAY
    return Problem.NOT_A_DAY


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_family_number(text: str) -> str | None:
    """A N° famille typed with or without spaces, dots or dashes; None if not one."""
    value = re.sub(r"[\s.-]", "", text)
    return value if _FAMILY_NUMBER.match(value) else None


def match_service(word: str, services: Iterable[tuple[str, str]]) -> str | None:
    """The code of the service a word names, from (code, name) pairs; None if none or ambiguous.

    The word may be the code ("cantine", "garderie_soir") or the name with or without spaces
    ("Garderie soir", "garderie-soir"), in any case.
    """
    wanted = _simplify(word)
    if not wanted:
        return None
    pairs = list(services)
    for code, name in pairs:
        if wanted in (_simplify(code), _simplify(name)):
            return code
    return None


def _simplify(value: str) -> str:
    return re.sub(r"[\s_-]+", "", value.strip().lower())


class UnknownServiceWord(ValueError):
    """The first word after /fermeture's date looks like a service but names none ("cantinne",
    "garderie"): closing the whole structure instead would be a costly mistake. Arg: the word."""


def split_service_and_reason(
    words: list[str], services: Iterable[tuple[str, str]]
) -> tuple[str | None, str]:
    """After /fermeture's date: an optional service (one to three words) then the reason.

    The longest leading words naming a service win; otherwise every word is the reason, unless
    the first word looks like a service without naming one (a misspelt code, a word shared by
    several services): then `UnknownServiceWord` is raised.
    """
    pairs = list(services)
    for size in (3, 2, 1):
        if len(words) >= size:
            code = match_service(" ".join(words[:size]), pairs)
            if code is not None:
                return code, " ".join(words[size:]).strip()
    if words and _looks_like_a_service(words[0], pairs):
        raise UnknownServiceWord(words[0])
    return None, " ".join(words).strip()


def _looks_like_a_service(word: str, services: list[tuple[str, str]]) -> bool:
    wanted = _simplify(word)
    if len(wanted) < 4:
        return False
    known: set[str] = set()
    for code, name in services:
        known.update({_simplify(code), _simplify(name)})
        known.update(_simplify(part) for part in re.split(r"[_-]+", code) if len(part) >= 4)
    return wanted in known or bool(
        difflib.get_close_matches(wanted, sorted(known), n=1, cutoff=0.8)
    )
