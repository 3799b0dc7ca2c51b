"""What staff type after their commands: a day, a N° famille, a service. Pure parsing, no I/O.

Staff write dates the French way ("24/11/2026", "24/11", "demain"); a day without a year is
the next such day from today, so "05/01" typed in December means January.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

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


def split_service_and_reason(words: list[str], services: Iterable[tuple[str, str]]) -> tuple[str | None, str]:
    """After /fermeture's date: an optional service (one to three words) then the reason.

    The longest leading words naming a service win; otherwise every word is the reason.
    """
    pairs = list(services)
    for size in (3, 2, 1):
        if len(words) >= size:
            code = match_service(" ".join(words[:size]), pairs)
            if code is not None:
                return code, " ".join(words[size:]).strip()
    return None, " ".join(words).strip()
