"""The structure file: the demo parses; mistakes are reported with their path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from bot.domain.rules import StructureConfigError
from bot.settings import DEMO_STRUCTURE_FILE
from bot.structure import Structure, parse_structure


def _demo() -> dict[str, Any]:
    return yaml.safe_load(DEMO_STRUCTURE_FILE.read_text(encoding="utf-8"))


def test_demo_structure_has_the_services_of_the_product(structure: Structure) -> None:
    assert {s.code for s in structure.services} == {
        "garderie_matin",
        "garderie_soir",
        "gouter",
        "cantine",
        "alsh_mercredi",
        "alsh_vacances",
    }
    assert structure.school_holiday_zone == "C"
    assert structure.service("cantine").name == "Restauration scolaire"


def _broken(change) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    raw = copy.deepcopy(_demo())
    change(raw)
    return raw


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda r: r.pop("structure"), "structure"),
        (lambda r: r["structure"].update(school_holiday_zone="D"), "structure.school_holiday_zone"),
        (lambda r: r["services"][1].update(regie="XX"), "services[1].regie"),
        (lambda r: r["services"].append(copy.deepcopy(r["services"][0])), "services"),
        (lambda r: r["services"][0].pop("name"), "services[0].name"),
        (lambda r: r["services"][2].pop("rules"), "services[2].rules"),
        (lambda r: r.update(regies=[]), "regies"),
    ],
)
def test_mistakes_name_their_place(change, where: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StructureConfigError) as info:
        parse_structure(_broken(change))
    assert str(info.value).startswith(where)
