"""What staff type after their commands: days, family numbers, services."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.staff_input import match_service, parse_day, parse_family_number, split_service_and_reason

MONDAY = dt.date(2026, 11, 23)
SERVICES = [("cantine", "Restauration scolaire"), ("garderie_soir", "Garderie soir"), ("garderie_matin", "Garderie matin")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24/11/2026", dt.date(2026, 11, 24)),
        ("24/11/26", dt.date(2026, 11, 24)),
        ("24.11.2026", dt.date(2026, 11, 24)),
        ("2026-11-24", dt.date(2026, 11, 24)),
        ("24/11", dt.date(2026, 11, 24)),
        ("23/11", dt.date(2026, 11, 23)),  # today
        ("05/01", dt.date(2027, 1, 5)),  # no year: the next such day
        ("22/11", dt.date(2027, 11, 22)),
        ("demain", dt.date(2026, 11, 24)),
        ("Aujourd'hui", MONDAY),
        ("après-demain", dt.date(2026, 11, 25)),
        ("31/02/2027", None),
        ("29/02/2028", dt.date(2028, 2, 29)),
        ("lundi", None),
        ("", None),
        ("24/13/2026", None),
    ],
)
def test_parse_day(text: str, expected: dt.date | None) -> None:
    assert parse_day(text, MONDAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1001001818331", "1001001818331"), ("1001 0018 18331", "1001001818331"), ("1001-001.818331", "1001001818331"),
     ("DUPONT", None), ("12345", None), ("", None)],
)
def test_parse_family_number(text: str, expected: str | None) -> None:
    assert parse_family_number(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("cantine", "cantine"), ("CANTINE", "cantine"), ("restauration scolaire", "cantine"),
     ("garderie-soir", "garderie_soir"), ("Garderie soir", "garderie_soir"), ("garderie", None), ("", None)],
)
def test_match_service(word: str, expected: str | None) -> None:
    assert match_service(word, SERVICES) == expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("cantine Grève du personnel", ("cantine", "Grève du personnel")),
        ("garderie soir Travaux", ("garderie_soir", "Travaux")),
        ("Restauration scolaire Panne du four", ("cantine", "Panne du four")),
        ("Travaux dans la cour", (None, "Travaux dans la cour")),
        ("cantine", ("cantine", "")),  # a service without a reason: the reason is missing
        ("", (None, "")),
    ],
)
def test_split_service_and_reason(words: str, expected: tuple[str | None, str]) -> None:
    assert split_service_and_reason(words.split(), SERVICES) == expected
