"""Invoice computation: what a family owes for a month, from its children's planning.

A day of a child's planning is billed when the child held or used the place — réservé,
régulier, présent, or absent facturé (a late cancellation) — and the service ran that day. A
late cancellation staff have not decided yet ("absence en cours de traitement") is billed too:
the rule is "billed unless staff excuse it", and the line counts it apart so staff can see it.
A day is not billed when the absence was excused, the booking was cancelled in time, refused,
still being processed, on the waiting list, or when the service did not run (a closure
decided by staff, a public holiday, outside its periods). Each child and service gives one line: the
number of billed days at the family's unit price (see :mod:`bot.domain.tariffs`). Lines go to
the invoice of the service's régie.

What is counted follows the tariff's ``counts`` and the service's attendance policy
(:mod:`bot.domain.attendance`): ``booked`` bills the days above; ``present`` bills the days
present and the billed absences, not a booked day whose session was never closed;
``quarter_hours`` bills the started quarter-hours of each presence, and the whole session for a
billed absence. A day "absent excusé" is billed when the policy says an excused absence still
counts. A present child without a booking ("hors contrat") gets a line of its own, at the
tariff's ``hors_contrat`` price when it sets one.

Amounts are exact decimals rounded to the cent (half up), never floats. The module is pure.
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from bot.domain.attendance import AttendancePolicy, quarter_hours, session_quarter_hours
from bot.domain.calendar import Calendar, SchoolCalendarUnavailableError, ServiceSchedule
from bot.domain.model import DayStatus, Regime
from bot.domain.tariffs import Basis, Tariff, Unit

__all__ = [
    "BILLED_STATUSES",
    "BillableService",
    "BillingPeriod",
    "DayConsumption",
    "InvoiceDraft",
    "LineDraft",
    "MissingTariffError",
    "billed_units",
    "compute_invoices",
    "is_billed",
    "money",
    "parse_month",
    "runs_for_billing",
]

CENT: Final = Decimal("0.01")

BILLED_STATUSES: Final = frozenset(
    {
        DayStatus.RESERVED,
        DayStatus.REGULAR,
        DayStatus.PRESENT,
        DayStatus.ABSENT_BILLED,
        DayStatus.ABSENCE_PROCESSING,
    }
)
"""Statuses that are charged (on a day the service ran)."""

_MONTH: Final = re.compile(r"^(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])$")


def money(amount: Decimal) -> Decimal:
    """An amount rounded to the cent, half up (the rounding of French invoices)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def is_billed(status: DayStatus) -> bool:
    """Whether a day with this status is charged when the service ran."""
    return status in BILLED_STATUSES


class MissingTariffError(LookupError):
    """A service with billed days has no ``tariffs:`` in the structure file."""


@dataclass(frozen=True)
class BillingPeriod:
    """The days an invoice covers, both ends included (a calendar month)."""

    start: date
    end: date

    @classmethod
    def month(cls, year: int, month: int) -> BillingPeriod:
        """The calendar month."""
        return cls(date(year, month, 1), date(year, month, _calendar.monthrange(year, month)[1]))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def code(self) -> str:
        """ "2026-11"."""
        return f"{self.start:%Y-%m}"


def parse_month(text: str) -> BillingPeriod | None:
    """The month written "YYYY-MM", or None when it is not one."""
    match = _MONTH.match(text.strip())
    if match is None:
        return None
    return BillingPeriod.month(int(match["year"]), int(match["month"]))


@dataclass(frozen=True)
class DayConsumption:
    """One child's day of one service, with its planning status."""

    child_id: int
    service_code: str
    day: date
    status: DayStatus
    hors_contrat: bool = False
    """Present without a booking (see :func:`bot.domain.attendance.is_hors_contrat`)."""
    arrival: time | None = None
    departure: time | None = None
    """When the child came and left (local times), as recorded at pointage."""


@dataclass(frozen=True)
class BillableService:
    """What billing needs of a service: its name, régie, prices and attendance rules."""

    code: str
    name: str
    regie: str
    tariff: Tariff | None
    attendance: AttendancePolicy = field(default_factory=AttendancePolicy)
    starts: time = time(0, 0)
    ends: time = time(23, 59)
    """The session's hours (quarter-hours are counted within them)."""


@dataclass(frozen=True)
class LineDraft:
    """One invoice line: a child's billed days of one service."""

    child_id: int
    service_code: str
    label: str
    unit: Unit
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    absent_billed: int
    """How many of the billed days were "absent facturé"."""
    undecided_absences: int = 0
    """How many were late absences staff had not decided yet (billed unless excused)."""
    basis: Basis = Basis.BOOKED
    """What the quantity counts (booked days, days present, quarter-hours)."""
    days: int = 0
    """How many days the line covers."""
    present_days: int = 0
    """How many of them the child was ticked present."""
    hors_contrat: bool = False
    """The line of the days present without a booking."""


@dataclass(frozen=True)
class InvoiceDraft:
    """The invoice of one régie for one family and period, before it is numbered."""

    regie: str
    period: BillingPeriod
    lines: tuple[LineDraft, ...]

    @property
    def total(self) -> Decimal:
        """Sum of the lines."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))


def runs_for_billing(
    calendar: Calendar, schedules: Mapping[str, ServiceSchedule]
) -> Callable[[str, date], bool]:
    """A predicate "did service S run on day D" for :func:`compute_invoices`.

    Closures and public holidays always stop billing. Outside the years of the shipped
    school-holiday data, the periods cannot be checked and only weekdays are.
    """

    def runs(service_code: str, day: date) -> bool:
        schedule = schedules.get(service_code)
        if (
            calendar.closure(day, service_code) is not None
            or calendar.public_holiday(day) is not None
        ):
            return False
        if schedule is None:
            return True
        try:
            return calendar.why_not_running(service_code, schedule, day) is None
        except SchoolCalendarUnavailableError:
            return day.weekday() in schedule.weekdays

    return runs


def compute_invoices(
    consumption: Iterable[DayConsumption],
    *,
    period: BillingPeriod,
    services: Mapping[str, BillableService],
    children: Mapping[int, str],
    quotient: Decimal | None,
    regime: Regime | None,
    runs: Callable[[str, date], bool],
) -> tuple[InvoiceDraft, ...]:
    """A family's invoices for ``period``, one per régie with something to bill.

    ``consumption`` is the family's day entries (others outside the period are ignored);
    ``services`` the configured services in their order, ``children`` the children's names.
    Lines come by child name, then in the order of the services. Raises
    :class:`MissingTariffError` when a billed day's service has no prices, and KeyError for
    an unknown service code.
    """
    days: dict[tuple[int, str, bool], list[tuple[DayConsumption, int]]] = defaultdict(list)
    for entry in consumption:
        if entry.day not in period or not runs(entry.service_code, entry.day):
            continue
        service = services[entry.service_code]
        units = billed_units(entry, service)
        if units:
            if service.tariff is None:
                raise MissingTariffError(entry.service_code)
            hors_contrat = entry.hors_contrat and entry.status is DayStatus.PRESENT
            days[(entry.child_id, entry.service_code, hors_contrat)].append((entry, units))
    service_order = {code: index for index, code in enumerate(services)}
    by_regie: dict[str, list[LineDraft]] = defaultdict(list)
    for (child_id, code, hors_contrat), billed in sorted(
        days.items(),
        key=lambda item: (
            children.get(item[0][0], ""),
            item[0][0],
            service_order[item[0][1]],
            item[0][2],
        ),
    ):
        service = services[code]
        tariff = service.tariff
        assert tariff is not None  # checked above
        price = tariff.price_for(quotient, regime).price
        if hors_contrat and tariff.hors_contrat is not None:
            price = tariff.hors_contrat
        by_day: dict[date, tuple[DayConsumption, int]] = {}
        for entry, units in billed:
            by_day.setdefault(entry.day, (entry, units))
        quantity = Decimal(sum(units for _entry, units in by_day.values()))
        entries = [entry for entry, _units in by_day.values()]
        child_name = children.get(child_id, "")
        by_regie[service.regie].append(
            LineDraft(
                child_id=child_id,
                service_code=code,
                label=f"{service.name} — {child_name}" if child_name else service.name,
                unit=tariff.unit,
                quantity=quantity,
                unit_price=price,
                amount=money(quantity * price),
                absent_billed=sum(
                    1 for entry in entries if entry.status is DayStatus.ABSENT_BILLED
                ),
                undecided_absences=sum(
                    1 for entry in entries if entry.status is DayStatus.ABSENCE_PROCESSING
                ),
                basis=tariff.counts,
                days=len(entries),
                present_days=sum(1 for entry in entries if entry.status is DayStatus.PRESENT),
                hors_contrat=hors_contrat,
            )
        )
    return tuple(
        InvoiceDraft(regie, period, tuple(lines)) for regie, lines in sorted(by_regie.items())
    )


def billed_units(entry: DayConsumption, service: BillableService) -> int:
    """How many units of ``service`` one day of a child is billed (0: not billed).

    A day counts once (1 unit) per booked or present day, or its started quarter-hours for a
    tariff counting them (see the module's docstring).
    """
    basis = service.tariff.counts if service.tariff is not None else Basis.BOOKED
    status = entry.status
    policy = service.attendance
    absence_billed = status in (DayStatus.ABSENT_BILLED, DayStatus.ABSENCE_PROCESSING) or (
        status is DayStatus.ABSENT_EXCUSED and policy.excused_billed
    )
    if basis is Basis.BOOKED:
        return 1 if is_billed(status) or absence_billed else 0
    if basis is Basis.PRESENT:
        return 1 if status is DayStatus.PRESENT or absence_billed else 0
    if status is DayStatus.PRESENT:
        return quarter_hours(entry.arrival, entry.departure, service.starts, service.ends)
    if absence_billed:
        return session_quarter_hours(service.starts, service.ends)
    return 0
