"""Translations and French formatting of dates and amounts.

Every user-facing string goes through `_`/`ngettext` (extracted by babel into
`locales/messages.pot`). The locale of the current update is held in a context variable set by
`use_locale`; scheduled jobs set it per recipient. Messages ids are English; French is the
main catalog and is always complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gettext
import io
import re
from collections.abc import Iterator
from contextvars import ContextVar
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency

from bot.domain.french import of_name, without_article

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SUPPORTED_LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
_BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}

_current_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of a language: the compiled .mo, or the .po compiled in memory."""
    folder = LOCALES_DIR / language / "LC_MESSAGES"
    mo_path, po_path = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo_path.is_file() and (
        not po_path.is_file() or mo_path.stat().st_mtime >= po_path.stat().st_mtime
    ):
        with mo_path.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if po_path.is_file():
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return gettext.GNUTranslations(buffer)
    return gettext.NullTranslations()


def current_language() -> str:
    """The language of the update being handled."""
    return _current_language.get()


def set_language(language: str) -> None:
    """Set the language for the rest of the current task."""
    _current_language.set(normalize_language(language))


@contextlib.contextmanager
def use_language(language: str) -> Iterator[None]:
    """Temporarily render texts in `language` (used by jobs writing to many parents)."""
    token = _current_language.set(normalize_language(language))
    try:
        yield
    finally:
        _current_language.reset(token)


def normalize_language(code: str | None) -> str:
    """One of SUPPORTED_LANGUAGES from a stored choice or a Telegram language_code."""
    if code:
        base = code.split("-")[0].split("_")[0].lower()
        if base in SUPPORTED_LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


def _(message: str) -> str:
    """Translate a message into the current language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a message with a plural form chosen by `count`."""
    return translations(current_language()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a constant for extraction; translate it later with `_`."""
    return message


def preload() -> None:
    """Read every catalog and babel's locale data now, not during someone's first tap."""
    for language in SUPPORTED_LANGUAGES:
        translations(language)
        locale = _BABEL_LOCALES[language]
        format_datetime(dt.datetime(2026, 1, 1), "full", locale=locale)
        format_currency(Decimal(1), "EUR", locale=locale)


def babel_locale() -> str:
    """The babel locale of the current language (fr_FR, en_GB)."""
    return _BABEL_LOCALES[current_language()]


def format_day(day: dt.date) -> str:
    """A full date: "lundi 4 mai 2015"."""
    return format_date(day, "full", locale=babel_locale())


def format_short_date(day: dt.date) -> str:
    """A numeric date: "08/04/2015"."""
    return format_date(day, "dd/MM/yyyy", locale=babel_locale())


def format_moment(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """A deadline: "lundi 23 novembre 2026 à 10:00" in the structure's time zone."""
    local = moment.astimezone(tz)
    return _("{day} at {time}").format(
        day=format_date(local.date(), "full", locale=babel_locale()),
        time=format_time(local.time(), "HH:mm", locale=babel_locale()),
    )


def format_timestamp(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """A short date and time: "08/04/2015 14:03"."""
    return format_datetime(moment.astimezone(tz), "dd/MM/yyyy HH:mm", locale=babel_locale())


def format_money(amount: Decimal) -> str:
    """An amount in euros: "120,60 €"."""
    return format_currency(amount, "EUR", locale=babel_locale())


# "de" and "que" before a vowel, a tag possibly between ("de <b>EMMA" → "d’<b>EMMA").
_ELIDABLE = re.compile(
    r"\b(de|De|que|Que) (?=(?:<[a-z]+>)?[AEIOUYÀÂÆÉÈÊËÎÏÔŒÙÛÜŸaeiouyàâæéèêëîïôœùûüÿ])"
)


def elide(text: str) -> str:
    """French elision in a text built from a name: "de EMMA" → "d’EMMA", "que Alice" → "qu’Alice".

    Apply it to a formatted message of ours, never to what someone typed."""
    if current_language() != "fr":
        return text
    return _ELIDABLE.sub(lambda found: found.group(1)[:-1] + "’", text)


def pgettext(context: str, message: str) -> str:
    """Translate a message told apart by a context (e.g. the child's sex: "female", "male")."""
    return translations(current_language()).pgettext(context, message)


def by_sex(sex: str | None, *, female: str, male: str, unknown: str) -> str:
    """The translation agreeing with a sex code ("F", "M"): "Née le", "Né le"; "Né(e) le" when unknown.

    Call it with `pgettext("female", msg)`, `pgettext("male", msg)` and `_(msg)` so that babel extracts the three."""
    return {"F": female, "M": male}.get(sex or "", unknown)


def from_sender(name: str) -> str:
    """Who a message is from, after "Message", "Réponse", "Annonce": in French "de" elided or
    contracted with the name's article (`bot.domain.french.of_name`: "du Service Enfance
    Jeunesse", "de l’Accueil périscolaire"); in other languages "from {sender}", without the
    French article the structure file may give the name."""
    if current_language() == "fr":
        return of_name(name)
    return _("from {sender}").format(sender=without_article(name))
