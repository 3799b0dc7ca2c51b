"""Tariffs of the services, read from the structure file, and the price a family pays.

Each service of the structure YAML may state its prices under ``tariffs:``::

    tariffs:
      unit: day                  # what one quantity is: day | meal | snack | session
      childcare: true            # counts in the attestation de frais de garde (false for meals)
      prices:                    # quotient familial brackets, in increasing order
        - {qf_up_to: 600, price: "1.10"}    # QF <= 600,00 €
        - {qf_up_to: 1000, price: "1.50"}   # 600,00 € < QF <= 1 000,00 €
        - {price: "1.90"}                   # above, and families whose QF is not known
      by_regime:                 # optional: other brackets for a régime (caf, msa, other)
        other:
          - {price: "2.50"}
      counts: booked             # what is billed: booked (each booked day, the default) |
                                 # present (each day present) | quarter_hours (each started
                                 # quarter-hour of presence; the prices are per quarter-hour)
      hors_contrat: "2.00"       # optional: the price of a present child without a booking

The last bracket has no ``qf_up_to``: every family gets a price, and a family whose quotient
familial is not known pays the last (highest) bracket, as communes do without an attestation.
A family of a régime listed under ``by_regime`` pays from that list; any other family from
``prices``. A present child without a booking ("hors contrat") pays ``hors_contrat`` when it is
set, else the family's price. Prices are exact decimals (write them quoted), never floats.

Also here: the ``billing:`` block of the structure file (when invoices fall due).

The module is pure: :func:`parse_tariff` and :func:`parse_billing` raise
:class:`~bot.domain.rules.StructureConfigError` naming the faulty path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final

from bot.domain.model import Regime
from bot.domain.rules import StructureConfigError

__all__ = [
    "DEFAULT_DUE_DAYS",
    "Basis",
    "BillingConfig",
    "Bracket",
    "FamilyPrice",
    "Tariff",
    "Unit",
    "parse_billing",
    "parse_money",
    "parse_tariff",
]

CENT: Final = Decimal("0.01")
DEFAULT_DUE_DAYS: Final = 25
_TARIFF_KEYS: Final = frozenset(
    {"unit", "childcare", "prices", "by_regime", "counts", "hors_contrat"}
)
_BRACKET_KEYS: Final = frozenset({"qf_up_to", "price"})
_BILLING_KEYS: Final = frozenset({"due_days"})


class Unit(StrEnum):
    """What one unit of a service is, for "Tarifs en cours" and the invoice lines."""

    DAY = "day"
    MEAL = "meal"
    SNACK = "snack"
    SESSION = "session"
    QUARTER_HOUR = "quarter_hour"


class Basis(StrEnum):
    """What a tariff counts: booked days, days present, or started quarter-hours of presence."""

    BOOKED = "booked"
    PRESENT = "present"
    QUARTER_HOURS = "quarter_hours"


@dataclass(frozen=True)
class Bracket:
    """A quotient familial bracket: families with a QF up to ``qf_up_to`` (None: any) pay ``price``."""

    price: Decimal
    qf_up_to: Decimal | None = None

    def contains(self, quotient: Decimal | None) -> bool:
        """Whether a family of this quotient familial (None: unknown) is in the bracket."""
        if self.qf_up_to is None:
            return True
        return quotient is not None and quotient <= self.qf_up_to


@dataclass(frozen=True)
class FamilyPrice:
    """The unit price one family pays, with the bracket it comes from."""

    price: Decimal
    bracket: Bracket
    lower_bound: Decimal | None
    """The upper bound of the bracket before this one (None for the first bracket)."""


@dataclass(frozen=True)
class Tariff:
    """A service's prices: brackets by quotient familial, optionally others per régime."""

    brackets: tuple[Bracket, ...]
    unit: Unit = Unit.DAY
    childcare: bool = True
    by_regime: Mapping[Regime, tuple[Bracket, ...]] = field(default_factory=dict)
    counts: Basis = Basis.BOOKED
    """What one quantity is billed for (see :class:`Basis`)."""
    hors_contrat: Decimal | None = None
    """The unit price of a present child without a booking; None: the family's price."""

    def brackets_for(self, regime: Regime | None) -> tuple[Bracket, ...]:
        """The brackets that apply to a family of this régime."""
        if regime is not None and regime in self.by_regime:
            return self.by_regime[regime]
        return self.brackets

    def price_for(self, quotient: Decimal | None, regime: Regime | None) -> FamilyPrice:
        """The unit price for a family of this quotient familial and régime."""
        lower: Decimal | None = None
        brackets = self.brackets_for(regime)
        for bracket in brackets:
            if bracket.contains(quotient):
                return FamilyPrice(bracket.price, bracket, lower)
            lower = bracket.qf_up_to
        raise AssertionError("the last bracket is open-ended")  # guaranteed by parse_tariff


@dataclass(frozen=True)
class BillingConfig:
    """The ``billing:`` block: an invoice falls due ``due_days`` after its date."""

    due_days: int = DEFAULT_DUE_DAYS


# --- configuration ---------------------------------------------------------------------------


def parse_tariff(raw: Any, where: str) -> Tariff:
    """Validate one service's ``tariffs:`` mapping found at path ``where``."""
    item = _mapping(raw, where)
    _check_keys(item, where, _TARIFF_KEYS, required=frozenset({"prices"}))
    unit_raw = item.get("unit", Unit.DAY.value)
    try:
        unit = Unit(str(unit_raw))
    except ValueError:
        choices = ", ".join(u.value for u in Unit)
        raise StructureConfigError(f"{where}.unit: {unit_raw!r} is not one of {choices}") from None
    childcare = item.get("childcare", True)
    if not isinstance(childcare, bool):
        raise StructureConfigError(f"{where}.childcare: expected true or false")
    by_regime: dict[Regime, tuple[Bracket, ...]] = {}
    if item.get("by_regime") is not None:
        regimes = _mapping(item["by_regime"], f"{where}.by_regime")
        for key, brackets in regimes.items():
            try:
                regime = Regime(str(key))
            except ValueError:
                choices = ", ".join(r.value for r in Regime)
                raise StructureConfigError(
                    f"{where}.by_regime.{key}: not a régime ({choices})"
                ) from None
            by_regime[regime] = _brackets(brackets, f"{where}.by_regime.{key}")
    counts_raw = item.get("counts", Basis.BOOKED.value)
    try:
        counts = Basis(str(counts_raw))
    except ValueError:
        choices = ", ".join(b.value for b in Basis)
        raise StructureConfigError(
            f"{where}.counts: {counts_raw!r} is not one of {choices}"
        ) from None
    if counts is Basis.QUARTER_HOURS and "unit" not in item:
        unit = Unit.QUARTER_HOUR
    hors_contrat = (
        parse_money(item["hors_contrat"], f"{where}.hors_contrat")
        if item.get("hors_contrat") is not None
        else None
    )
    return Tariff(
        brackets=_brackets(item["prices"], f"{where}.prices"),
        unit=unit,
        childcare=childcare,
        by_regime=by_regime,
        counts=counts,
        hors_contrat=hors_contrat,
    )


def parse_billing(raw: Any, where: str = "billing") -> BillingConfig:
    """Validate the structure's optional ``billing:`` block."""
    if raw is None:
        return BillingConfig()
    item = _mapping(raw, where)
    _check_keys(item, where, _BILLING_KEYS, required=frozenset())
    due_days = item.get("due_days", DEFAULT_DUE_DAYS)
    if isinstance(due_days, bool) or not isinstance(due_days, int) or not 0 <= due_days <= 120:
        raise StructureConfigError(f"{where}.due_days: expected a number of days from 0 to 120")
    return BillingConfig(due_days=due_days)


def parse_money(raw: Any, where: str) -> Decimal:
    """An amount of euros, >= 0 with at most two decimals ("1.50", 2, "3,20")."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise StructureConfigError(f'{where}: expected an amount such as "1.50"')
    text = str(raw).strip().replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise StructureConfigError(f"{where}: {raw!r} is not an amount") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        raise StructureConfigError(
            f"{where}: {raw!r} is not an amount >= 0 with at most 2 decimals"
        )
    return amount.quantize(CENT)


def _brackets(raw: Any, where: str) -> tuple[Bracket, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)) or not raw:
        raise StructureConfigError(f"{where}: expected a non-empty list of brackets")
    brackets: list[Bracket] = []
    previous: Decimal | None = None
    for index, item_raw in enumerate(raw):
        here = f"{where}[{index}]"
        item = _mapping(item_raw, here)
        _check_keys(item, here, _BRACKET_KEYS, required=frozenset({"price"}))
        last = index == len(raw) - 1
        up_to: Decimal | None = None
        if item.get("qf_up_to") is not None:
            if last:
                raise StructureConfigError(
                    f"{here}.qf_up_to: the last bracket must have no upper bound"
                )
            up_to = parse_money(item["qf_up_to"], f"{here}.qf_up_to")
            if previous is not None and up_to <= previous:
                raise StructureConfigError(f"{here}.qf_up_to: brackets must be in increasing order")
            previous = up_to
        elif not last:
            raise StructureConfigError(f"{here}.qf_up_to: required on every bracket but the last")
        brackets.append(Bracket(price=parse_money(item["price"], f"{here}.price"), qf_up_to=up_to))
    return tuple(brackets)


def _mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise StructureConfigError(f"{where}: expected a mapping")
    return raw


def _check_keys(
    item: Mapping[str, Any], where: str, allowed: frozenset[str], *, required: frozenset[str]
) -> None:
    for key in item:
        if key not in allowed:
            raise StructureConfigError(
                f"{where}.{key}: unknown key (expected {', '.join(sorted(allowed))})"
            )
    for key in sorted(required):
        if item.get(key) is None:
            raise StructureConfigError(f"{where}.{key}: required")
