"""French "de" before a name, as French writes it: "d’EMMA", "de LUCAS", "du Service Enfance".

A person's name takes "de", elided to "d’" before a vowel or a mute h ("d’Hugo", "d’Yves",
"de Yann"). A structure's name is a common noun phrase whose article the bot cannot guess
(le Service, la Maison, l’Accueil): the structure file writes it with its article
(`structure.sender: "le Service Enfance Jeunesse"`), and "de" then contracts with it:
de + le → du, de + les → des, de la, de l’. A name given without an article is treated as a
person's or a place's name ("de Saint-Jean", "d’Alban").
"""

from __future__ import annotations

import unicodedata
from typing import Final

APOSTROPHE: Final = "’"
VOWELS: Final = frozenset("aeiouæœ")
ASPIRATED_H: Final = frozenset(
    {
        "hall",
        "halte",
        "hameau",
        "handball",
        "handicap",
        "hangar",
        "harpe",
        "hasard",
        "haut",
        "haute",
        "hauts",
        "hockey",
        "honte",
        "hotte",
        "huit",
    }
)
"""Words beginning with an aspirated h, which takes no elision ("de la halte-garderie")."""


def _plain_initials(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def elides(word: str) -> bool:
    """True when "de" / "le" / "la" before `word` lose their vowel ("d’EMMA", "d’Hugo")."""
    plain = _plain_initials(word.strip())
    if not plain:
        return False
    first_word = plain.split()[0].split("-")[0].rstrip(APOSTROPHE + "'")
    if plain[0] in VOWELS:
        return True
    if plain[0] == "y":  # "d’Yves", "d’Ysée", but "de Yann", "de Yasmine"
        return len(plain) > 1 and plain[1] not in VOWELS
    if plain[0] == "h":  # a mute h, unless the word is known to be aspirated
        return first_word not in ASPIRATED_H
    return False


def of_name(name: str) -> str:
    """ "de" + a name, with its article contracted or its vowel elided.

    of_name("EMMA") == "d’EMMA"; of_name("le Service Enfance") == "du Service Enfance";
    of_name("l'Accueil périscolaire") == "de l’Accueil périscolaire".
    """
    text = " ".join(name.split()).replace("'", APOSTROPHE)
    lower = text.lower()
    if lower.startswith("le "):
        return "du " + text[3:]
    if lower.startswith("les "):
        return "des " + text[4:]
    if lower.startswith(("la ", "l" + APOSTROPHE)):
        return "de " + text[0].lower() + text[1:]
    return ("d" + APOSTROPHE if elides(text) else "de ") + text


def without_article(name: str) -> str:
    """The name without the French article it was written with ("le Service" → "Service")."""
    text = " ".join(name.split()).replace("'", APOSTROPHE)
    lower = text.lower()
    for article in ("le ", "la ", "les ", "l" + APOSTROPHE):
        if lower.startswith(article):
            return text[len(article) :]
    return text
