"""Invoice computation: which days are billed, at which price, on which lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.billing import (
    BillableService,
    BillingPeriod,
    DayConsumption,
    MissingTariffError,
    compute_invoices,
    parse_month,
    runs_for_billing,
)
from bot.domain.calendar import Calendar, Closure
from bot.domain.model import DayStatus, Regime
from bot.structure import Structure

LUCAS, EMMA = 1, 2
NAMES = {LUCAS: "LUCAS", EMMA: "EMMA"}
OCTOBER = BillingPeriod.month(2026, 10)
QF_850 = Decimal("850.00")


def _services(structure: Structure) -> dict[str, BillableService]:
    return {s.code: BillableService(s.code, s.name, s.regie, s.tariff) for s in structure.services}


def _runs(structure: Structure, closures: tuple[Closure, ...] = ()):  # type: ignore[no-untyped-def]
    calendar = Calendar(structure.school_holiday_zone, closures=closures)
    return runs_for_billing(calendar, {s.code: s.rules.schedule for s in structure.services})


def _compute(structure: Structure, entries, *, quotient=QF_850, regime=Regime.CAF, closures=()):  # type: ignore[no-untyped-def]
    return compute_invoices(
        entries,
        period=OCTOBER,
        services=_services(structure),
        children=NAMES,
        quotient=quotient,
        regime=regime,
        runs=_runs(structure, closures),
    )


BILLED = {
    DayStatus.RESERVED: True,
    DayStatus.REGULAR: True,
    DayStatus.PRESENT: True,
    DayStatus.ABSENT_BILLED: True,
    DayStatus.ABSENCE_PROCESSING: True,  # a late cancellation: billed unless staff excuse it
    DayStatus.ABSENT_EXCUSED: False,
    DayStatus.CANCELLED: False,
    DayStatus.BOOKING_PROCESSING: False,
    DayStatus.BOOKING_REFUSED: False,
    DayStatus.PENDING: False,
}


def test_the_table_covers_every_status() -> None:
    assert set(BILLED) == set(DayStatus)


@pytest.mark.parametrize(("status", "billed"), sorted(BILLED.items()))
def test_which_statuses_are_billed(structure: Structure, status: DayStatus, billed: bool) -> None:
    monday = dt.date(2026, 10, 5)
    drafts = _compute(structure, [DayConsumption(LUCAS, "garderie_matin", monday, status)])
    if not billed:
        assert drafts == ()
        return
    (draft,) = drafts
    (line,) = draft.lines
    assert (line.quantity, line.unit_price, line.amount) == (
        Decimal(1),
        Decimal("1.50"),
        Decimal("1.50"),
    )
    assert line.absent_billed == (1 if status is DayStatus.ABSENT_BILLED else 0)
    assert line.undecided_absences == (1 if status is DayStatus.ABSENCE_PROCESSING else 0)


@pytest.mark.parametrize(
    ("quotient", "regime", "unit_price"),
    [
        ("450", Regime.CAF, "8.00"),
        ("850", Regime.CAF, "11.00"),
        ("1250", Regime.MSA, "14.00"),
        (None, Regime.CAF, "14.00"),
        ("450", Regime.OTHER, "18.00"),
    ],
)
def test_the_quotient_familial_bracket_sets_the_price(
    structure: Structure, quotient: str | None, regime: Regime, unit_price: str
) -> None:
    wednesdays = [dt.date(2026, 10, 7), dt.date(2026, 10, 14)]
    entries = [DayConsumption(EMMA, "alsh_mercredi", day, DayStatus.RESERVED) for day in wednesdays]
    (draft,) = _compute(
        structure, entries, quotient=Decimal(quotient) if quotient else None, regime=regime
    )
    (line,) = draft.lines
    assert line.unit_price == Decimal(unit_price)
    assert line.amount == Decimal(unit_price) * 2
    assert draft.total == line.amount


def _weekdays(first: dt.date, last: dt.date, weekdays: set[int]) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        if day.weekday() in weekdays:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def test_a_month_spanning_holidays_and_a_closure(structure: Structure) -> None:
    """October 2026, zone C: school until Friday 16, Toussaint holidays from Saturday 17.

    LUCAS is "régulier" at the morning garderie every Mon/Tue/Thu/Fri of the month (the regular
    pattern runs on into the holidays, when the garderie does not run), booked the ALSH every
    holiday weekday and three Wednesdays (one of them in the holidays). Staff closed the
    morning garderie on Friday 9 and the whole structure on Thursday 22.
    """
    closures = (
        Closure(dt.date(2026, 10, 9), "garderie_matin", "Formation"),
        Closure(dt.date(2026, 10, 22), None, "Fermeture exceptionnelle"),
    )
    mornings = [
        DayConsumption(LUCAS, "garderie_matin", day, DayStatus.REGULAR)
        for day in _weekdays(OCTOBER.start, OCTOBER.end, {0, 1, 3, 4})
    ]
    holidays = [
        DayConsumption(LUCAS, "alsh_vacances", day, DayStatus.RESERVED)
        for day in _weekdays(dt.date(2026, 10, 19), dt.date(2026, 10, 30), {0, 1, 2, 3, 4})
    ]
    wednesdays = [
        DayConsumption(LUCAS, "alsh_mercredi", dt.date(2026, 10, d), DayStatus.RESERVED)
        for d in (7, 14, 21)
    ]
    emma = [
        DayConsumption(EMMA, "cantine", dt.date(2026, 10, d), DayStatus.PRESENT) for d in (1, 2, 5)
    ]
    outside = [DayConsumption(LUCAS, "garderie_matin", dt.date(2026, 11, 2), DayStatus.REGULAR)]

    (draft,) = _compute(
        structure, mornings + holidays + wednesdays + emma + outside, closures=closures
    )

    assert draft.regie == "AL" and draft.period == OCTOBER
    rows = [(line.label, line.quantity, line.unit_price, line.amount) for line in draft.lines]
    assert rows == [
        ("Restauration scolaire — EMMA", Decimal(3), Decimal("3.50"), Decimal("10.50")),
        (
            "Garderie matin — LUCAS",
            Decimal(9),
            Decimal("1.50"),
            Decimal("13.50"),
        ),  # 10 school days - closure
        (
            "Accueil de Loisirs ALSH Mercredi journée — LUCAS",
            Decimal(2),
            Decimal("11.00"),
            Decimal("22.00"),
        ),
        (
            "Accueil de Loisirs ALSH Vacances journée — LUCAS",
            Decimal(9),
            Decimal("12.50"),
            Decimal("112.50"),
        ),
    ]
    assert draft.total == Decimal("158.50")


def test_public_holidays_are_not_billed(structure: Structure) -> None:
    armistice = dt.date(2026, 11, 11)  # a Wednesday
    entries = [DayConsumption(LUCAS, "alsh_mercredi", armistice, DayStatus.RESERVED)]
    drafts = compute_invoices(
        entries,
        period=BillingPeriod.month(2026, 11),
        services=_services(structure),
        children=NAMES,
        quotient=QF_850,
        regime=Regime.CAF,
        runs=_runs(structure),
    )
    assert drafts == ()


def test_a_service_without_prices_is_an_error_not_a_free_day(structure: Structure) -> None:
    services = _services(structure)
    services["cantine"] = BillableService("cantine", "Restauration scolaire", "AL", None)
    with pytest.raises(MissingTariffError):
        compute_invoices(
            [DayConsumption(EMMA, "cantine", dt.date(2026, 10, 5), DayStatus.PRESENT)],
            period=OCTOBER,
            services=services,
            children=NAMES,
            quotient=None,
            regime=None,
            runs=_runs(structure),
        )


def test_lines_go_to_their_regie(structure: Structure) -> None:
    services = _services(structure)
    services["cantine"] = BillableService(
        "cantine", "Restauration scolaire", "RC", services["cantine"].tariff
    )
    entries = [
        DayConsumption(EMMA, "cantine", dt.date(2026, 10, 5), DayStatus.PRESENT),
        DayConsumption(EMMA, "garderie_soir", dt.date(2026, 10, 5), DayStatus.PRESENT),
    ]
    drafts = compute_invoices(
        entries,
        period=OCTOBER,
        services=services,
        children=NAMES,
        quotient=QF_850,
        regime=Regime.CAF,
        runs=_runs(structure),
    )
    assert [(d.regie, [line.service_code for line in d.lines]) for d in drafts] == [
        ("AL", ["garderie_soir"]),
        ("RC", ["cantine"]),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11", (dt.date(2026, 11, 1), dt.date(2026, 11, 30))),
        ("2028-02", (dt.date(2028, 2, 1), dt.date(2028, 2, 29))),
        (" 2026-12 ", (dt.date(2026, 12, 1), dt.date(2026, 12, 31))),
        ("2026-13", None),
        ("2026-1", None),
        ("11/2026", None),
        ("", None),
    ],
)
def test_months_are_written_yyyy_mm(text: str, expected: tuple[dt.date, dt.date] | None) -> None:
    period = parse_month(text)
    assert (None if period is None else (period.start, period.end)) == expected
