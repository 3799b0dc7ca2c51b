"""Attendance (pointage): what a child's day becomes once staff close the session, and how
much of it is billed.

Each service of the structure YAML may state what a no-show means under ``attendance:``::

    attendance:
      no_show: billed            # billed ("absent facturé") | free ("absent excusé")
      excused_absence: free      # an absence excused by staff: free | billed (still counts)

Both default to the seed portal's rule: a booked child who did not come is "absent facturé",
and an absence staff excused is not billed.

When staff close a session (:func:`after_session`): a ticked child is "présent" whatever was
planned (without a booking, that is the "hors contrat" case, :func:`is_hors_contrat`); a booked
or regular child not ticked is a no-show, "absent facturé" or "absent excusé" by the policy;
every other day (a declared absence, a cancellation, a request still with staff) is unchanged.

:func:`quarter_hours` counts the started quarter-hours of a presence for tariffs that bill per
quarter-hour (the garderie): from arrival to departure, both kept within the session's hours, a
missing arrival being the start of the session and a missing departure its end.

The module is pure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any, Final

from bot.domain.calendar import WEEKDAY_CODES
from bot.domain.model import DayStatus
from bot.domain.rules import StructureConfigError

__all__ = [
    "BOOKED_STATUSES",
    "AttendancePolicy",
    "after_session",
    "contract_days",
    "current_service",
    "is_hors_contrat",
    "parse_attendance",
    "parse_contract_days",
    "quarter_hours",
    "session_quarter_hours",
    "weekday_codes",
]

BOOKED_STATUSES: Final = frozenset({DayStatus.RESERVED, DayStatus.REGULAR})
"""A child is expected at the session: booked, or on a regular contract."""

_WITH_A_BOOKING: Final = frozenset(
    {
        DayStatus.RESERVED,
        DayStatus.REGULAR,
        DayStatus.BOOKING_PROCESSING,
        DayStatus.ABSENCE_PROCESSING,
        DayStatus.ABSENT_BILLED,
    }
)
"""Days a present child is billed as booked (a late absence still counts as the booking)."""

_KEYS: Final = frozenset({"no_show", "excused_absence"})
_CHOICES: Final = {"billed": True, "free": False}


@dataclass(frozen=True)
class AttendancePolicy:
    """What a no-show and an excused absence cost, per service (``attendance:``)."""

    no_show_billed: bool = True
    """A booked child who did not come is "absent facturé" (else "absent excusé")."""
    excused_billed: bool = False
    """A day "absent excusé" is still billed."""

    @property
    def no_show_status(self) -> DayStatus:
        """The status of a booked child not ticked when the session closed."""
        return DayStatus.ABSENT_BILLED if self.no_show_billed else DayStatus.ABSENT_EXCUSED


def after_session(
    planned: DayStatus | None, present: bool, policy: AttendancePolicy
) -> DayStatus | None:
    """The day's status once the session is closed (None: no day at all, as before).

    ``planned`` is the status before attendance was taken (None: no day entry).
    """
    if present:
        return DayStatus.PRESENT
    if planned in BOOKED_STATUSES or planned is DayStatus.PRESENT:
        return policy.no_show_status
    return planned


def is_hors_contrat(planned: DayStatus | None) -> bool:
    """Whether a child present at a session came without a booking ("heure hors contrat")."""
    return planned not in _WITH_A_BOOKING


def quarter_hours(arrival: time | None, departure: time | None, starts: time, ends: time) -> int:
    """The started quarter-hours between arrival and departure, within the session's hours.

    At least one: a child ticked present was there.
    """
    begin = _minutes(arrival or starts)
    end = _minutes(departure or ends)
    low, high = _minutes(starts), _minutes(ends)
    begin, end = min(max(begin, low), high), min(max(end, low), high)
    if end <= begin:
        return 1
    return -(-(end - begin) // 15)


def session_quarter_hours(starts: time, ends: time) -> int:
    """The quarter-hours of the whole session (what a billed absence costs per quarter-hour)."""
    return quarter_hours(starts, ends, starts, ends)


def parse_attendance(raw: Any, where: str) -> AttendancePolicy:
    """Validate a service's optional ``attendance:`` mapping found at path ``where``."""
    if raw is None:
        return AttendancePolicy()
    if not isinstance(raw, Mapping):
        raise StructureConfigError(f"{where}: expected a mapping")
    for key in raw:
        if key not in _KEYS:
            raise StructureConfigError(
                f"{where}.{key}: unknown key (expected {', '.join(sorted(_KEYS))})"
            )
    return AttendancePolicy(
        no_show_billed=_choice(raw, "no_show", where, default=True),
        excused_billed=_choice(raw, "excused_absence", where, default=False),
    )


def _choice(raw: Mapping[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = raw.get(key)
    if value is None:
        return default
    if value not in _CHOICES:
        raise StructureConfigError(f"{where}.{key}: {value!r} is not one of billed, free")
    return _CHOICES[value]


_DAY_WORDS: Final = {
    **{code: index for index, code in enumerate(WEEKDAY_CODES)},
    **{word: index for index, word in enumerate(("lun", "mar", "mer", "jeu", "ven", "sam", "dim"))},
    **{
        word: index
        for index, word in enumerate(
            ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
        )
    },
}


def parse_contract_days(text: str) -> frozenset[int] | None:
    """The weekdays of a regular contract as staff write them ("lun,mar,jeu", "lundi jeudi").

    0 is Monday. None when a word is not a day or no day is given.
    """
    words = [w for w in re.split(r"[\s,;/+]+", _fold(text)) if w]
    if not words or any(word not in _DAY_WORDS for word in words):
        return None
    return frozenset(_DAY_WORDS[word] for word in words)


def weekday_codes(days: frozenset[int]) -> str:
    """ "mon,tue,thu": how the enrolment stores a contract's days."""
    return ",".join(WEEKDAY_CODES[day] for day in sorted(days))


def contract_days(stored: str | None) -> frozenset[int]:
    """The weekdays of a stored contract ("mon,thu"); empty without one."""
    if not stored:
        return frozenset()
    return frozenset(
        WEEKDAY_CODES.index(code) for code in stored.split(",") if code in WEEKDAY_CODES
    )


def current_service(sessions: Sequence[tuple[str, time, time]], now: time) -> str | None:
    """The session running now (code, starts, ends), else the next one today, else the last.

    ``sessions`` are the services running today in the structure file's order, which breaks
    ties (the evening garderie before the goûter of the same hours). None when there is none.
    """
    running = [code for code, starts, ends in sessions if starts <= now <= ends]
    if running:
        return running[0]
    coming = [(starts, index) for index, (_c, starts, _e) in enumerate(sessions) if now < starts]
    if coming:
        return sessions[min(coming)[1]][0]
    if not sessions:
        return None
    latest = max(range(len(sessions)), key=lambda index: (sessions[index][2], -index))
    return sessions[latest][0]


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute
