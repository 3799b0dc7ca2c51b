"""Tests of the pure domain layer, with small builders shared by the test modules."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from bot.domain.calendar import PARIS
from bot.domain.rules import Service, parse_service_rules

GARDERIE_MATIN: dict[str, Any] = {
    "weekdays": ["mon", "tue", "thu", "fri"],
    "runs_in": ["school_term"],
    "starts": "07:30",
    "ends": "08:30",
    "closes": "18:30",
    "capacity": 40,
    "approval": "auto",
    "booking": {"deadline": {"kind": "previous_service_day", "at": "closing"}},
    "cancellation": {
        "deadline": {"kind": "previous_service_day", "at": "closing"},
        "late": "billed",
    },
}
"""The seed's périscolaire morning: book and cancel before closing the previous service day."""


def raw_rules(base: dict[str, Any] = GARDERIE_MATIN, **changes: Any) -> dict[str, Any]:
    """A copy of ``base`` with top-level keys replaced (None removes a key)."""
    rules = deepcopy(base)
    for key, value in changes.items():
        if value is None:
            rules.pop(key, None)
        else:
            rules[key] = value
    return rules


def service(code: str = "svc", base: dict[str, Any] = GARDERIE_MATIN, **changes: Any) -> Service:
    """A service parsed from ``base`` with ``changes`` applied."""
    return Service(code, parse_service_rules(raw_rules(base, **changes), where="test.rules"))


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An aware instant given by its Paris wall-clock time (first occurrence if ambiguous)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An aware UTC instant."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
