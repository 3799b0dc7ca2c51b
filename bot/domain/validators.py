"""Checking what a parent types before anything is saved: phones, email, IBAN, BIC, dates…

Every validator is pure (no I/O, no clock: `today` is passed in). It returns the normalised
value to store, or raises `ValidationError` whose `code` the dialogue turns into a French
sentence. Stored forms: phones as written in France ("06 12 34 56 78") or in international form
for a foreign number ("+44 20 7946 0958"); IBAN and BIC compact and upper case; dates ISO.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

DEFAULT_REGION = "FR"
MAX_TEXT_LENGTH = 200
OLDEST_CHILD_YEARS = 25
QUOTIENT_MAX = Decimal("99999.99")
CHILDREN_MAX = 20
_SEPARATORS = re.compile(r"[\s.\-/]")
_POSTAL_CODE = re.compile(r"^(?:0[1-9]|[1-8]\d|9[0-8])\d{3}$")
_CAF_NUMBER = re.compile(r"^\d{7,8}$")
_DATE_DMY = re.compile(r"^(\d{1,2})[/.\-\s](\d{1,2})[/.\-\s](\d{2}|\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATE_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{4})$")


class Problem(StrEnum):
    """Why a value was refused (each has a French explanation in the dialogues)."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    PHONE = "phone"
    EMAIL = "email"
    IBAN = "iban"
    IBAN_CHECKSUM = "iban_checksum"
    BIC = "bic"
    POSTAL_CODE = "postal_code"
    CAF_NUMBER = "caf_number"
    DATE = "date"
    DATE_IN_FUTURE = "date_in_future"
    DATE_TOO_OLD = "date_too_old"
    DATE_IN_PAST = "date_in_past"
    AMOUNT = "amount"
    COUNT = "count"
    CHOICE = "choice"
    SYMBOLS = "symbols"
    BEFORE_OTHER_DATE = "before_other_date"


class ValidationError(ValueError):
    """A typed value that cannot be accepted, with the reason's code."""

    def __init__(self, code: Problem) -> None:
        super().__init__(code.value)
        self.code = code


def _stripped(raw: str) -> str:
    value = " ".join(raw.split())
    if not value:
        raise ValidationError(Problem.EMPTY)
    return value


def text(raw: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    """Free text of a record (a name, an address): trimmed, inner spaces collapsed, not empty,
    not too long, and words only: no emoji nor pictograph (the record is printed on forms and
    read by other systems; letters of any language, digits and punctuation are fine)."""
    value = _stripped(raw)
    if len(value) > max_length:
        raise ValidationError(Problem.TOO_LONG)
    if any(_is_symbol(char) for char in value):
        raise ValidationError(Problem.SYMBOLS)
    return value


def _is_symbol(char: str) -> bool:
    """An emoji, a pictograph, or the invisible joiners and selectors that build emoji."""
    if char in "\u200d\ufe0f\ufe0e\u20e3":
        return True
    if unicodedata.category(char) in ("Cs", "Co"):
        return True
    return any(first <= ord(char) <= last for first, last in _EMOJI_BLOCKS)


# Emoji and pictograph blocks; "°" (n°), "©", "€" and letters of every script stay allowed.
_EMOJI_BLOCKS = (
    (0x2300, 0x23FF),  # ⌚ ⏰
    (0x2600, 0x27BF),  # ☀ ✅ ❤
    (0x2B00, 0x2BFF),  # ⭐ ⬆
    (0x1F000, 0x1FAFF),  # 😀 🏠 🇫🇷
    (0xE0000, 0xE007F),  # tags of flags
)


def phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """A French or foreign phone number (foreign ones with their +country code or 00 prefix)."""
    value = _stripped(raw)
    if value.startswith("00"):
        value = "+" + value[2:]
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(Problem.PHONE) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(Problem.PHONE)
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def email(raw: str) -> str:
    """An email address, syntax only (no network look-up), domain lower-cased."""
    value = _stripped(raw)
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError(Problem.EMAIL) from exc


def iban(raw: str) -> str:
    """An IBAN, checked (structure, length of its country, check digits); stored compact."""
    value = _stripped(raw).upper()
    try:
        return IBAN(value).compact
    except SchwiftyException as exc:
        problem = (
            Problem.IBAN_CHECKSUM if "checksum" in type(exc).__name__.lower() else Problem.IBAN
        )
        raise ValidationError(problem) from exc


def bic(raw: str) -> str:
    """A BIC (8 or 11 characters: bank, country, location, branch); stored compact."""
    value = _stripped(raw).upper().replace(" ", "")
    try:
        return BIC(value).compact
    except SchwiftyException as exc:
        raise ValidationError(Problem.BIC) from exc


def postal_code(raw: str) -> str:
    """A French code postal: five digits, of an existing département (01… 98)."""
    value = _SEPARATORS.sub("", _stripped(raw))
    if not _POSTAL_CODE.match(value):
        raise ValidationError(Problem.POSTAL_CODE)
    return value


def caf_number(raw: str) -> str:
    """A CAF n° allocataire: 7 or 8 digits, spaces allowed."""
    value = _SEPARATORS.sub("", _stripped(raw))
    if not _CAF_NUMBER.match(value):
        raise ValidationError(Problem.CAF_NUMBER)
    return value


def parse_date(raw: str, today: dt.date) -> dt.date:
    """A date written the French way (12/06/2014, 12-6-14, 12.06.2014, 12062014) or ISO."""
    value = _stripped(raw)
    day = month = year = 0
    if match := _DATE_DMY.match(value):
        day, month, year = (int(part) for part in match.groups())
        if len(match.group(3)) == 2:
            year += 2000 if 2000 + year <= today.year else 1900
    elif match := _DATE_ISO.match(value):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DATE_COMPACT.match(value):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValidationError(Problem.DATE)
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValidationError(Problem.DATE) from exc


def past_date(raw: str, today: dt.date, max_years: int = 100) -> dt.date:
    """A date not after today (a vaccination), nor absurdly old."""
    value = parse_date(raw, today)
    if value > today:
        raise ValidationError(Problem.DATE_IN_FUTURE)
    if value.year < today.year - max_years:
        raise ValidationError(Problem.DATE_TOO_OLD)
    return value


def birth_date(raw: str, today: dt.date) -> dt.date:
    """A child's date of birth: not in the future, less than 25 years ago.

    A child to come ("futur élève") may be declared before birth: up to 9 months ahead.
    """
    value = parse_date(raw, today)
    if value > today + dt.timedelta(days=275):
        raise ValidationError(Problem.DATE_IN_FUTURE)
    if value.year < today.year - OLDEST_CHILD_YEARS:
        raise ValidationError(Problem.DATE_TOO_OLD)
    return value


def coming_date(raw: str, today: dt.date, max_years: int = 10) -> dt.date:
    """A date from today on (a booster, the start of an inscription), within ten years."""
    value = parse_date(raw, today)
    if value < today:
        raise ValidationError(Problem.DATE_IN_PAST)
    if value.year > today.year + max_years:
        raise ValidationError(Problem.DATE)
    return value


def any_date(raw: str, today: dt.date, max_years: int = 100) -> dt.date:
    """A date in the past or in the next ten years (a booster already done or to come)."""
    value = parse_date(raw, today)
    if value.year < today.year - max_years:
        raise ValidationError(Problem.DATE_TOO_OLD)
    if value.year > today.year + 10:
        raise ValidationError(Problem.DATE)
    return value


def amount(raw: str, maximum: Decimal = QUOTIENT_MAX) -> Decimal:
    """A positive amount in euros ("850", "850,50", "1 250.00 €"), two decimals."""
    value = _stripped(raw).replace("€", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise ValidationError(Problem.AMOUNT) from exc
    if (
        not number.is_finite()
        or number < 0
        or number > maximum
        or number != number.quantize(Decimal("0.01"))
    ):
        raise ValidationError(Problem.AMOUNT)
    return number.quantize(Decimal("0.01"))


def count(raw: str, maximum: int = CHILDREN_MAX) -> int:
    """A small whole number (number of children): 0 to 20."""
    value = _stripped(raw)
    if not value.isdigit() or int(value) > maximum:
        raise ValidationError(Problem.COUNT)
    return int(value)


def choice(raw: str, allowed: tuple[str, ...]) -> str:
    """One of a fixed set of codes (given by a button, but checked all the same)."""
    if raw not in allowed:
        raise ValidationError(Problem.CHOICE)
    return raw


def mask_iban(value: str | None, visible: int = 4) -> str:
    """An IBAN hidden but for its country code and last digits: "FR76 •••• … 0189"."""
    if not value:
        return ""
    compact = value.replace(" ", "")
    if len(compact) <= visible + 4:
        return "•" * len(compact)
    return f"{compact[:4]} •••• •••• {compact[-visible:]}"
