"""Tariffs: a family's unit price from its quotient familial and régime; config mistakes named."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
import yaml

from bot.domain.model import Regime
from bot.domain.rules import StructureConfigError
from bot.domain.tariffs import BillingConfig, Unit, parse_billing, parse_tariff
from bot.settings import DEMO_STRUCTURE_FILE
from bot.structure import Structure, parse_structure

ALSH = {
    "unit": "day",
    "prices": [
        {"qf_up_to": 600, "price": "8.00"},
        {"qf_up_to": "1000", "price": "11.00"},
        {"price": 14},
    ],
    "by_regime": {"other": [{"price": "18.00"}]},
}


@pytest.mark.parametrize(
    ("quotient", "regime", "price"),
    [
        (None, None, "14.00"),  # QF not provided: the highest bracket
        ("0", Regime.CAF, "8.00"),
        ("600.00", Regime.CAF, "8.00"),  # bounds are included
        ("600.01", Regime.CAF, "11.00"),
        ("1000", Regime.MSA, "11.00"),
        ("1000.01", Regime.MSA, "14.00"),
        ("5000", None, "14.00"),
        ("300", Regime.OTHER, "18.00"),  # the régime's own list wins, whatever the QF
        (None, Regime.OTHER, "18.00"),
    ],
)
def test_a_family_pays_the_price_of_its_bracket(
    quotient: str | None, regime: Regime | None, price: str
) -> None:
    tariff = parse_tariff(ALSH, "services[4].tariffs")
    found = tariff.price_for(Decimal(quotient) if quotient is not None else None, regime)
    assert found.price == Decimal(price)
    assert isinstance(found.price, Decimal)


def test_a_float_written_in_yaml_becomes_an_exact_price() -> None:
    tariff = parse_tariff({"prices": [{"price": 1.1}], "unit": "meal", "childcare": False}, "t")
    assert tariff.brackets[0].price == Decimal("1.10")
    assert tariff.unit is Unit.MEAL and tariff.childcare is False


def _changed(change) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    raw = copy.deepcopy(ALSH)
    change(raw)
    return raw


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda r: r.pop("prices"), "T.prices"),
        (lambda r: r.update(prices=[]), "T.prices"),
        (lambda r: r.update(color="blue"), "T.color"),
        (lambda r: r.update(unit="hour"), "T.unit"),
        (lambda r: r.update(childcare="yes"), "T.childcare"),
        (lambda r: r["prices"][0].pop("price"), "T.prices[0].price"),
        (lambda r: r["prices"][0].update(price="-1"), "T.prices[0].price"),
        (lambda r: r["prices"][0].update(price="1.005"), "T.prices[0].price"),
        (lambda r: r["prices"][0].update(price="cher"), "T.prices[0].price"),
        (lambda r: r["prices"][0].update(price=True), "T.prices[0].price"),
        (lambda r: r["prices"][1].update(qf_up_to=500), "T.prices[1].qf_up_to"),
        (lambda r: r["prices"][1].pop("qf_up_to"), "T.prices[1].qf_up_to"),
        (lambda r: r["prices"][2].update(qf_up_to=2000), "T.prices[2].qf_up_to"),
        (lambda r: r["by_regime"].update(cnaf=[{"price": "1"}]), "T.by_regime.cnaf"),
        (
            lambda r: r["by_regime"].update(msa=[{"qf_up_to": 10, "price": "1"}]),
            "T.by_regime.msa[0].qf_up_to",
        ),
    ],
)
def test_tariff_mistakes_name_their_place(change, where: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StructureConfigError) as info:
        parse_tariff(_changed(change), "T")
    assert str(info.value).startswith(where), str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, BillingConfig(25)), ({"due_days": 30}, BillingConfig(30)), ({}, BillingConfig(25))],
)
def test_billing_block(raw: Any, expected: BillingConfig) -> None:
    assert parse_billing(raw) == expected


@pytest.mark.parametrize(
    "raw", [{"due_days": -1}, {"due_days": "30"}, {"due_days": True}, {"due": 3}, [1]]
)
def test_billing_mistakes_name_their_place(raw: Any) -> None:
    with pytest.raises(StructureConfigError) as info:
        parse_billing(raw)
    assert str(info.value).startswith("billing")


def test_every_demo_service_has_prices(structure: Structure) -> None:
    assert all(service.tariff is not None for service in structure.services)
    assert structure.billing.due_days == 25
    assert structure.service("cantine").tariff.childcare is False  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            lambda r: r["services"][3]["tariffs"]["prices"][0].update(price="trois"),
            "services[3].tariffs.prices[0].price",
        ),
        (lambda r: r["services"][0].update(tariffs=["1.10"]), "services[0].tariffs"),
        (lambda r: r.update(billing={"due_days": 500}), "billing.due_days"),
    ],
)
def test_the_structure_file_names_a_bad_tariff(change, where: str) -> None:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load(DEMO_STRUCTURE_FILE.read_text(encoding="utf-8"))
    change(raw)
    with pytest.raises(StructureConfigError) as info:
        parse_structure(raw)
    assert str(info.value).startswith(where), str(info.value)
