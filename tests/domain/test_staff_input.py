"""What staff type after their commands: days, family numbers, services."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.staff_input import (
    Problem,
    day_problem,
    match_service,
    parse_day,
    parse_day_words,
    parse_family_number,
    parse_month_words,
    split_service_and_reason,
    split_trailing_day,
)

MONDAY = dt.date(2026, 11, 23)
SERVICES = [
    ("cantine", "Restauration scolaire"),
    ("garderie_soir", "Garderie soir"),
    ("garderie_matin", "Garderie matin"),
]


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
    [
        ("1001001818331", "1001001818331"),
        ("1001 0018 18331", "1001001818331"),
        ("1001-001.818331", "1001001818331"),
        ("DUPONT", None),
        ("12345", None),
        ("", None),
    ],
)
def test_parse_family_number(text: str, expected: str | None) -> None:
    assert parse_family_number(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("cantine", "cantine"),
        ("CANTINE", "cantine"),
        ("restauration scolaire", "cantine"),
        ("garderie-soir", "garderie_soir"),
        ("Garderie soir", "garderie_soir"),
        ("garderie", None),
        ("", None),
    ],
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


@pytest.mark.parametrize(
    "words",
    ["cantinne Grève", "garderie Travaux", "Cantines Panne du four", "garderie_soi Travaux"],
)
def test_a_word_that_looks_like_a_service_but_names_none_is_refused(words: str) -> None:
    from bot.domain.staff_input import UnknownServiceWord

    with pytest.raises(UnknownServiceWord):
        split_service_and_reason(words.split(), SERVICES)


TUESDAY_DEC = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 décembre", dt.date(2026, 12, 3)),
        ("3 Décembre 2027", dt.date(2027, 12, 3)),
        ("jeudi 3 décembre", dt.date(2026, 12, 3)),
        ("1er mars", dt.date(2027, 3, 1)),  # no year: the next such day
        ("30 novembre", dt.date(2027, 11, 30)),
        ("jeudi", dt.date(2026, 12, 3)),  # the next Thursday
        ("mardi", TUESDAY_DEC),  # today
        ("lundi", dt.date(2026, 12, 7)),
        ("3 decembre", dt.date(2026, 12, 3)),  # typed without the accent
        ("03/12", dt.date(2026, 12, 3)),  # what parse_day reads
        ("31 février", None),
        ("3 brumaire", None),
        ("décembre", None),
        ("", None),
    ],
)
def test_a_day_in_french_words(text: str, expected: dt.date | None) -> None:
    assert parse_day_words(text, TUESDAY_DEC) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("novembre", (2026, 11)),  # in December: the November just ended
        ("Décembre", (2026, 12)),
        ("janvier", (2026, 1)),  # the latest January not after this month
        ("novembre 2025", (2025, 11)),
        ("2026-11", (2026, 11)),
        ("11/2026", (2026, 11)),
        ("févr.", (2026, 2)),
        ("2026-13", None),
        ("novembre 26", None),
        ("bitcoin", None),
        ("", None),
    ],
)
def test_a_month_to_invoice_in_french_words(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_month_words(text, TUESDAY_DEC) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("31/02/2027", Problem.NO_SUCH_DAY),
        ("2027-02-31", Problem.NO_SUCH_DAY),
        ("31 février", Problem.NO_SUCH_DAY),
        ("blabla", Problem.NOT_A_DAY),
        ("24/13", Problem.NO_SUCH_DAY),
        ("24/11/2026", None),
        ("3 décembre", None),
    ],
)
def test_what_is_wrong_with_a_day_is_said(text: str, problem: Problem | None) -> None:
    assert day_problem(text, TUESDAY_DEC) == problem


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("DUPONT 24/11/2026", ("DUPONT", dt.date(2026, 11, 24))),
        ("JEAN DUPONT 3 décembre", ("JEAN DUPONT", dt.date(2026, 12, 3))),
        ("1001001818331 jeudi 3 décembre", ("1001001818331", dt.date(2026, 12, 3))),
        ("DUPONT demain", ("DUPONT", dt.date(2026, 12, 2))),
        ("DUPONT 31/02/2027", ("DUPONT 31/02/2027", None)),
        ("24/11/2026", ("24/11/2026", None)),  # a day alone names no family
    ],
)
def test_a_family_then_a_day(words: str, expected: tuple[str, dt.date | None]) -> None:
    before, day = split_trailing_day(words.split(), TUESDAY_DEC)
    assert (" ".join(before), day) == expected
