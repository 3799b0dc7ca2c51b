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

Amounts are exact decimals rounded to the cent (half up), never floats. The module is pure.
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from bot.domain.calendar import Calendar, SchoolCalendarUnavailableError, ServiceSchedule
from bot.domain.model import DayStatus, Regime
from bot.domain.tariffs import Tariff, Unit

__all__ = [
    "BILLED_STATUSES",
    "BillableService",
    "BillingPeriod",
    "DayConsumption",
    "InvoiceDraft",
    "LineDraft",
    "MissingTariffError",
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


@dataclass(frozen=True)
class BillableService:
    """What billing needs of a service: its name, régie and prices."""

    code: str
    name: str
    regie: str
    tariff: Tariff | None


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
    days: dict[tuple[int, str], list[DayConsumption]] = defaultdict(list)
    for entry in consumption:
        if entry.day in period and is_billed(entry.status) and runs(entry.service_code, entry.day):
            days[(entry.child_id, entry.service_code)].append(entry)
    service_order = {code: index for index, code in enumerate(services)}
    by_regie: dict[str, list[LineDraft]] = defaultdict(list)
    for (child_id, code), billed in sorted(
        days.items(),
        key=lambda item: (children.get(item[0][0], ""), item[0][0], service_order[item[0][1]]),
    ):
        service = services[code]
        if service.tariff is None:
            raise MissingTariffError(code)
        price = service.tariff.price_for(quotient, regime).price
        quantity = Decimal(len({entry.day for entry in billed}))
        child_name = children.get(child_id, "")
        by_regie[service.regie].append(
            LineDraft(
                child_id=child_id,
                service_code=code,
                label=f"{service.name} — {child_name}" if child_name else service.name,
                unit=service.tariff.unit,
                quantity=quantity,
                unit_price=price,
                amount=money(quantity * price),
                absent_billed=sum(1 for entry in billed if entry.status is DayStatus.ABSENT_BILLED),
                undecided_absences=sum(
                    1 for entry in billed if entry.status is DayStatus.ABSENCE_PROCESSING
                ),
            )
        )
    return tuple(
        InvoiceDraft(regie, period, tuple(lines)) for regie, lines in sorted(by_regie.items())
    )
