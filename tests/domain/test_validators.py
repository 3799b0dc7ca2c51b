"""What a parent may type in a form: each check with values it accepts and values it refuses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.domain import validators
from bot.domain.validators import Problem, ValidationError

TODAY = dt.date(2026, 11, 23)


def refused(check, raw: str, *args: object) -> Problem:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        check(raw, *args)
    return caught.value.code


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("06 12 34 56 78", "06 12 34 56 78"),
        ("0612345678", "06 12 34 56 78"),
        ("06.12.34.56.78", "06 12 34 56 78"),
        ("+33 6 12 34 56 78", "06 12 34 56 78"),
        ("0033612345678", "06 12 34 56 78"),
        ("01 02 03 04 05", "01 02 03 04 05"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("0044 20 7946 0958", "+44 20 7946 0958"),
        ("+32 470 12 34 56", "+32 470 12 34 56"),
    ],
)
def test_phone_numbers_french_and_foreign_are_accepted(raw: str, stored: str) -> None:
    assert validators.phone(raw) == stored


@pytest.mark.parametrize(
    "raw", ["123", "06 12 34 56", "06 12 34 56 78 90", "bonjour", "+99 123", ""]
)
def test_wrong_phone_numbers_are_refused(raw: str) -> None:
    assert refused(validators.phone, raw) in (Problem.PHONE, Problem.EMPTY)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("jean.dupont@example.fr", "jean.dupont@example.fr"),
        ("  Jean.Dupont@Example.FR ", "Jean.Dupont@example.fr"),
        ("jeanne+portail@mail.example.com", "jeanne+portail@mail.example.com"),
    ],
)
def test_email_addresses_are_accepted(raw: str, stored: str) -> None:
    assert validators.email(raw) == stored


@pytest.mark.parametrize(
    "raw", ["jean.dupont", "jean@", "@example.fr", "jean dupont@example.fr", "jean@localhost"]
)
def test_wrong_email_addresses_are_refused(raw: str) -> None:
    assert refused(validators.email, raw) == Problem.EMAIL


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189"),
        ("fr7630006000011234567890189", "FR7630006000011234567890189"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    ],
)
def test_ibans_are_accepted_and_stored_compact(raw: str, stored: str) -> None:
    assert validators.iban(raw) == stored


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("FR76 3000 6000 0112 3456 7890 188", Problem.IBAN_CHECKSUM),
        ("FR76 3000 6000", Problem.IBAN),
        ("1234567890", Problem.IBAN),
        ("XX00 1234", Problem.IBAN),
    ],
)
def test_wrong_ibans_are_refused_with_the_reason(raw: str, problem: Problem) -> None:
    assert refused(validators.iban, raw) == problem


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("BNPAFRPP", "BNPAFRPP"), ("bnpafrppxxx", "BNPAFRPPXXX"), ("AGRI FRPP 882", "AGRIFRPP882")],
)
def test_bics_are_accepted(raw: str, stored: str) -> None:
    assert validators.bic(raw) == stored


@pytest.mark.parametrize("raw", ["BNPA", "BNPAFRPPX", "12345678", "BNPA-FRPP"])
def test_wrong_bics_are_refused(raw: str) -> None:
    assert refused(validators.bic, raw) == Problem.BIC


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("31400", "31400"), ("07 340", "07340"), ("97400", "97400"), ("20000", "20000")],
)
def test_postal_codes_are_accepted(raw: str, stored: str) -> None:
    assert validators.postal_code(raw) == stored


@pytest.mark.parametrize("raw", ["3140", "314000", "00100", "99000", "ABCDE"])
def test_wrong_postal_codes_are_refused(raw: str) -> None:
    assert refused(validators.postal_code, raw) == Problem.POSTAL_CODE


@pytest.mark.parametrize(
    ("raw", "stored"), [("1234567", "1234567"), ("123 45 67", "1234567"), ("12345678", "12345678")]
)
def test_caf_numbers_are_accepted(raw: str, stored: str) -> None:
    assert validators.caf_number(raw) == stored


@pytest.mark.parametrize("raw", ["123456", "123456789", "12345A7"])
def test_wrong_caf_numbers_are_refused(raw: str) -> None:
    assert refused(validators.caf_number, raw) == Problem.CAF_NUMBER


@pytest.mark.parametrize(
    ("raw", "day"),
    [
        ("12/06/2014", dt.date(2014, 6, 12)),
        ("12-6-14", dt.date(2014, 6, 12)),
        ("1.2.2020", dt.date(2020, 2, 1)),
        ("12 06 2014", dt.date(2014, 6, 12)),
        ("12062014", dt.date(2014, 6, 12)),
        ("2014-06-12", dt.date(2014, 6, 12)),
        ("01/01/99", dt.date(1999, 1, 1)),
    ],
)
def test_dates_are_read_the_french_way(raw: str, day: dt.date) -> None:
    assert validators.parse_date(raw, TODAY) == day


@pytest.mark.parametrize(
    "raw", ["31/02/2020", "12/13/2020", "demain", "2020", "12/06", "00/01/2020"]
)
def test_impossible_dates_are_refused(raw: str) -> None:
    assert refused(validators.parse_date, raw, TODAY) == Problem.DATE


@pytest.mark.parametrize(
    ("check", "raw", "problem"),
    [
        (validators.past_date, "24/11/2026", Problem.DATE_IN_FUTURE),
        (validators.past_date, "01/01/1900", Problem.DATE_TOO_OLD),
        (validators.birth_date, "01/01/2000", Problem.DATE_TOO_OLD),
        (validators.birth_date, "01/01/2028", Problem.DATE_IN_FUTURE),
        (validators.coming_date, "22/11/2026", Problem.DATE_IN_PAST),
        (validators.coming_date, "01/01/2040", Problem.DATE),
        (validators.any_date, "01/01/2040", Problem.DATE),
    ],
)
def test_dates_outside_their_range_are_refused(check, raw: str, problem: Problem) -> None:  # type: ignore[no-untyped-def]
    assert refused(check, raw, TODAY) == problem


@pytest.mark.parametrize(
    ("check", "raw", "day"),
    [
        (validators.past_date, "23/11/2026", TODAY),
        (validators.birth_date, "14/03/2017", dt.date(2017, 3, 14)),
        (validators.birth_date, "01/03/2027", dt.date(2027, 3, 1)),  # a child to come
        (validators.coming_date, "23/11/2026", TODAY),
        (validators.any_date, "01/07/2017", dt.date(2017, 7, 1)),
        (validators.any_date, "01/07/2030", dt.date(2030, 7, 1)),
    ],
)
def test_dates_within_their_range_are_accepted(check, raw: str, day: dt.date) -> None:  # type: ignore[no-untyped-def]
    assert check(raw, TODAY) == day


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("850", Decimal("850.00")),
        ("850,5", Decimal("850.50")),
        ("1 250,00 €", Decimal("1250.00")),
        ("0", Decimal("0.00")),
    ],
)
def test_amounts_are_accepted(raw: str, value: Decimal) -> None:
    assert validators.amount(raw) == value


@pytest.mark.parametrize("raw", ["-5", "abc", "850,555", "100000", "NaN", "Infinity"])
def test_wrong_amounts_are_refused(raw: str) -> None:
    assert refused(validators.amount, raw) == Problem.AMOUNT


@pytest.mark.parametrize(
    ("raw", "ok"),
    [("2", True), ("0", True), ("20", True), ("21", False), ("-1", False), ("deux", False)],
)
def test_children_count(raw: str, ok: bool) -> None:
    if ok:
        assert validators.count(raw) == int(raw)
    else:
        assert refused(validators.count, raw) == Problem.COUNT


@pytest.mark.parametrize(
    ("raw", "problem"), [("", Problem.EMPTY), ("   ", Problem.EMPTY), ("x" * 201, Problem.TOO_LONG)]
)
def test_text_must_be_present_and_short_enough(raw: str, problem: Problem) -> None:
    assert refused(validators.text, raw) == problem


def test_text_is_trimmed() -> None:
    assert validators.text("  12   rue des  Bonbons ") == "12 rue des Bonbons"


def test_a_choice_must_be_one_of_the_buttons() -> None:
    assert validators.choice("caf", ("caf", "msa")) == "caf"
    assert refused(validators.choice, "other", ("caf", "msa")) == Problem.CHOICE


@pytest.mark.parametrize(
    ("iban", "shown"),
    [
        ("FR7630006000011234567890189", "FR76 •••• •••• 0189"),
        ("", ""),
        (None, ""),
        ("FR76", "••••"),
    ],
)
def test_an_iban_is_shown_masked_but_for_its_last_digits(iban: str | None, shown: str) -> None:
    assert validators.mask_iban(iban) == shown


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("DUPONT 😀", Problem.SYMBOLS),
        ("12 rue des Lilas 🏠", Problem.SYMBOLS),
        ("JEAN ❤", Problem.SYMBOLS),
        ("Toulouse 🇫🇷", Problem.SYMBOLS),
        ("ZOÉ\u200d", Problem.SYMBOLS),
        ("⭐ Étoile", Problem.SYMBOLS),
        ("Appartement n° 3, bâtiment B", None),
        ("N'GUYEN-LÊ Anh", None),
        ("Łódź, ul. Żółta 7", None),
        ("Μαρία Παπαδοπούλου", None),
        ("SARL Café & Cie ©", None),
    ],
)
def test_names_and_addresses_refuse_emoji_and_keep_every_letter(
    raw: str, problem: Problem | None
) -> None:
    if problem is None:
        assert validators.text(raw) == raw
    else:
        with pytest.raises(ValidationError) as error:
            validators.text(raw)
        assert error.value.code == problem
