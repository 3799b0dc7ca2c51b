"""Catalogs: every string of the code is in the French catalog, translated, not fuzzy;
dates and amounts are formatted the French way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import (
    LOCALES_DIR,
    _,
    format_day,
    format_moment,
    format_money,
    format_short_date,
    from_sender,
    ngettext,
    use_language,
)

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _code_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "conversations"):
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(language: str):  # type: ignore[no-untyped-def]
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def test_every_message_of_the_code_is_translated_in_french() -> None:
    catalog = _catalog("fr")
    missing = sorted(m for m in _code_messages() if catalog.get(m) is None)
    assert missing == [], "run `make i18n` and translate: " + repr(missing[:5])


def test_french_catalog_has_no_empty_or_fuzzy_entry() -> None:
    untranslated, fuzzy = [], []
    for message in _catalog("fr"):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert untranslated == [] and fuzzy == []


def test_translations_keep_their_placeholders() -> None:
    import re

    placeholder = re.compile(r"\{[a-z_]+\}")
    for message in _catalog("fr"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(placeholder.findall(ids[-1]))
        for string in strings:
            assert set(placeholder.findall(string)) == expected, message.id


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "Bienvenue {name}"), ("en", "Welcome {name}")],
)
def test_the_current_language_picks_the_catalog(language: str, expected: str) -> None:
    with use_language(language):
        assert _("<b>Welcome {name}</b>") == f"<b>{expected}</b>"


def test_french_plural_treats_zero_as_singular() -> None:
    with use_language("fr"):
        assert (
            ngettext("You have {count} new message.", "You have {count} new messages.", 0)
            == "Vous avez {count} nouveau message."
        )
        assert (
            ngettext("You have {count} new message.", "You have {count} new messages.", 2)
            == "Vous avez {count} nouveaux messages."
        )


def test_french_formats() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    with use_language("fr"):
        assert format_day(dt.date(2015, 5, 4)) == "lundi 4 mai 2015"
        assert format_short_date(dt.date(2015, 4, 8)) == "08/04/2015"
        assert (
            format_money(Decimal("120.60")).replace("\u202f", " ").replace("\xa0", " ")
            == "120,60 €"
        )
        assert (
            format_moment(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), paris)
            == "lundi 23 novembre 2026 à 10:00"
        )


def _french_strings():  # type: ignore[no-untyped-def]
    for message in _catalog("fr"):
        if not message.id:
            continue
        for string in message.string if isinstance(message.string, tuple) else (message.string,):
            yield message.id, string


def test_french_strings_use_the_typographic_apostrophe() -> None:
    straight = [msgid for msgid, string in _french_strings() if "'" in string]
    assert straight == [], "write ’ (U+2019), not ': " + repr(straight[:5])


def test_french_strings_put_a_non_breaking_space_before_colons_and_other_high_punctuation() -> None:
    import re

    # A colon between digits (10:00) or in a link (https://) is no punctuation mark.
    mark = re.compile(r"(?<![\d/])[:;!?](?![\d/])")
    wrong = [
        (msgid, string[max(0, found.start() - 12) : found.end() + 3])
        for msgid, string in _french_strings()
        for found in mark.finditer(string)
        if string[found.start() - 1 : found.start()] not in ("\u00a0", "\u202f")
    ]
    assert wrong == [], "put U+00A0 (or U+202F) before « : ; ! ? »: " + repr(wrong[:5])


@pytest.mark.parametrize(
    ("language", "name", "expected"),
    [
        ("fr", "le Service Enfance Jeunesse", "✉️ <b>Message du Service Enfance Jeunesse</b>"),
        ("fr", "l’Accueil périscolaire", "✉️ <b>Message de l’Accueil périscolaire</b>"),
        ("fr", "Mairie de Saint-Jean", "✉️ <b>Message de Mairie de Saint-Jean</b>"),
        ("en", "le Service Enfance Jeunesse", "✉️ <b>Message from Service Enfance Jeunesse</b>"),
    ],
)
def test_who_a_message_is_from_reads_as_each_language_writes_it(
    language: str, name: str, expected: str
) -> None:
    with use_language(language):
        assert _("✉️ <b>Message {from_sender}</b>").format(from_sender=from_sender(name)) == expected
