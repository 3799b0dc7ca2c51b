"""The demo structure states every seed rule as configuration, and it all parses."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

import bot
from bot.domain.calendar import Calendar
from bot.domain.rules import (
    Approval,
    BookingWindow,
    Consequence,
    DaysBeforeFirstAttendance,
    InBookingWindow,
    LatePolicy,
    PreviousServiceDay,
    PreviousWeekDay,
    Reason,
    SameDay,
    SameWeekDay,
    Service,
    ServiceRules,
    booked_with,
    can_book,
    can_cancel,
    cancelled_with,
    check_min_per_week,
    check_requires,
    parse_service_rules,
)

from . import paris

DEMO_FILE = Path(bot.__file__).parent / "demo" / "structure.yaml"


def _load() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    return loaded


def _parse_all() -> dict[str, ServiceRules]:
    return {
        entry["code"]: parse_service_rules(entry["rules"], where=f"services[{i}].rules")
        for i, entry in enumerate(_load()["services"])
    }


RULES = _parse_all()
CALENDAR = Calendar(_load()["structure"]["school_holiday_zone"])


def _service(code: str) -> Service:
    return Service(code, RULES[code])


def test_every_service_has_rules_that_parse_and_reference_known_services() -> None:
    codes = [entry["code"] for entry in _load()["services"]]
    assert list(RULES) == codes
    assert len(codes) == 6
    check_requires(RULES)


@pytest.mark.parametrize(
    ("code", "booking", "cancellation"),
    [
        ("garderie_matin", PreviousServiceDay, PreviousServiceDay),
        ("garderie_soir", PreviousServiceDay, SameDay),
        ("gouter", PreviousServiceDay, SameDay),
        ("cantine", PreviousWeekDay, PreviousWeekDay),
        ("alsh_mercredi", SameWeekDay, SameWeekDay),
        ("alsh_vacances", InBookingWindow, DaysBeforeFirstAttendance),
    ],
)
def test_each_service_states_its_seed_rule(code: str, booking: type, cancellation: type) -> None:
    rules = RULES[code]
    assert type(rules.booking) is booking
    assert type(rules.cancellation) is cancellation
    assert rules.late is LatePolicy.BILLED  # "toute annulation hors délais entraînera une pénalité"


def test_gouter_goes_with_the_evening_garderie() -> None:
    assert booked_with("garderie_soir", RULES) == {"gouter"}
    assert cancelled_with("garderie_soir", RULES) == {"gouter"}
    assert booked_with("gouter", RULES) == {"garderie_soir"}


def test_alsh_is_checked_by_staff_and_garderie_is_not() -> None:
    assert RULES["alsh_mercredi"].approval is Approval.STAFF
    assert RULES["alsh_vacances"].approval is Approval.STAFF
    assert RULES["garderie_matin"].approval is Approval.AUTO


@pytest.mark.parametrize(
    ("code", "day", "allowed_until"),
    [
        ("garderie_matin", date(2026, 3, 16), paris(2026, 3, 13, 18, 30)),  # Monday → Friday
        ("garderie_matin", date(2026, 3, 12), paris(2026, 3, 10, 18, 30)),  # Thursday → Tuesday
        ("garderie_soir", date(2026, 3, 12), paris(2026, 3, 12, 9, 0)),  # before 09:00
        ("alsh_mercredi", date(2026, 3, 18), paris(2026, 3, 16, 10, 0)),  # Monday 10:00
        ("cantine", date(2026, 3, 19), paris(2026, 3, 13, 12, 0)),  # previous Friday noon
    ],
)
def test_demo_cancellation_deadlines(code: str, day: date, allowed_until: Any) -> None:
    decision = can_cancel(_service(code), day, paris(2026, 3, 2), calendar=CALENDAR)
    assert decision.deadline == allowed_until
    late = can_cancel(_service(code), day, allowed_until, calendar=CALENDAR)
    assert late.consequence is Consequence.BILLED_UNLESS_EXCUSED


def test_demo_holiday_alsh() -> None:
    alsh = _service("alsh_vacances")
    window = BookingWindow(
        "alsh_vacances",
        date(2026, 4, 18),
        date(2026, 5, 3),
        paris(2026, 3, 23, 8),
        paris(2026, 4, 10, 18),
    )
    assert can_book(
        alsh, date(2026, 4, 21), paris(2026, 3, 30), calendar=CALENDAR, windows=[window]
    ).allowed
    too_early = can_book(
        alsh, date(2026, 4, 21), paris(2026, 3, 1), calendar=CALENDAR, windows=[window]
    )
    assert too_early.reason is Reason.BOOKING_WINDOW_NOT_OPEN
    assert len(check_min_per_week(alsh, [date(2026, 4, 21)], calendar=CALENDAR)) == 1
    assert check_min_per_week(alsh, [date(2026, 4, 21), date(2026, 4, 23)], calendar=CALENDAR) == ()
