"""French "de" before a name: elided before a vowel or a mute h, contracted with an article."""

from __future__ import annotations

import pytest

from bot.domain.french import elides, of_name, without_article


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("EMMA", "d’EMMA"),
        ("LUCAS", "de LUCAS"),
        ("Émilie", "d’Émilie"),
        ("Œdipe", "d’Œdipe"),
        ("Hugo", "d’Hugo"),
        ("HÉLÈNE", "d’HÉLÈNE"),
        ("Yves", "d’Yves"),
        ("Yann", "de Yann"),
        ("Saint-Jean", "de Saint-Jean"),
        ("Accueil périscolaire", "d’Accueil périscolaire"),  # no article given: as a name
        ("le Service Enfance Jeunesse", "du Service Enfance Jeunesse"),
        ("Le Service Enfance", "du Service Enfance"),
        ("les Accueils de loisirs", "des Accueils de loisirs"),
        ("la Maison de l’Enfance", "de la Maison de l’Enfance"),
        ("La Maison de l’Enfance", "de la Maison de l’Enfance"),
        ("l’Accueil périscolaire", "de l’Accueil périscolaire"),
        ("l'Accueil périscolaire", "de l’Accueil périscolaire"),  # one apostrophe: ’
        ("L’Accueil périscolaire", "de l’Accueil périscolaire"),
        ("la halte-garderie", "de la halte-garderie"),
        ("  le   Service  ", "du Service"),
    ],
)
def test_de_before_a_name(name: str, expected: str) -> None:
    assert of_name(name) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("avion", True),
        ("Uriel", True),
        ("hôtel", True),
        ("halte-garderie", False),  # aspirated h
        ("hameau", False),
        ("Yolande", False),
        ("Ysée", True),
        ("Bernard", False),
        ("", False),
    ],
)
def test_which_words_elide(word: str, expected: bool) -> None:
    assert elides(word) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("le Service Enfance", "Service Enfance"),
        ("l’Accueil périscolaire", "Accueil périscolaire"),
        ("l'Accueil", "Accueil"),
        ("Mairie de Saint-Jean", "Mairie de Saint-Jean"),
        ("Lecture", "Lecture"),
    ],
)
def test_the_name_without_its_french_article(name: str, expected: str) -> None:
    assert without_article(name) == expected
