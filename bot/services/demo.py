"""The demo families (bot/demo/families.yaml), loaded once so every screen has something to show.

Every date is in the past of the day the demo is loaded, and the money is what `/facturer`
would have issued: the past months' attendance is recorded, then billed by the billing service.

Loading is idempotent: a family whose N° famille exists is left untouched.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import case, update

from bot.domain.billing import BillingPeriod, runs_for_billing
from bot.domain.calendar import Calendar
from bot.domain.model import DayStatus, GuardianRole, PaymentMethod, Regime
from bot.services.billing import issue_for_families
from bot.structure import Structure
from storage.db import UnitOfWork
from storage.models import Child, DayEntry, Enrolment, Family, FamilyChild, Guardian, Payment, Regie

DEMO_FAMILIES_FILE = Path(__file__).resolve().parent.parent / "demo" / "families.yaml"
_GUARDIAN_FIELDS = (
    "civility",
    "last_name",
    "first_name",
    "quality",
    "situation",
    "address",
    "postal_code",
    "city",
    "phone_home",
    "phone_work",
    "phone_mobile",
    "email",
    "profession",
    "csp",
    "employer",
    "employer_address",
    "sms_consent",
    "email_consent",
)
_CHILD_FIELDS = ("identifier", "last_name", "first_name", "sex", "school", "class_name")


async def load_demo(uow: UnitOfWork, structure: Structure, today: dt.date) -> int:
    """Create the demo families that do not exist yet; return how many were created."""
    raw = yaml.safe_load(DEMO_FAMILIES_FILE.read_text(encoding="utf-8"))
    created = 0
    for item in raw["families"]:
        if await uow.repos.families.get_by_number(item["number"]) is None:
            await _create_family(uow, structure, item, today)
            created += 1
    return created


async def _create_family(
    uow: UnitOfWork, structure: Structure, item: dict[str, Any], today: dt.date
) -> None:
    family = Family(
        number=item["number"],
        regime=Regime(item["regime"]) if item.get("regime") else None,
        caf_number=item.get("caf_number"),
        caf_children_count=item.get("caf_children_count"),
        quotient_familial=Decimal(item["quotient_familial"])
        if item.get("quotient_familial")
        else None,
        account_holder=item.get("account_holder"),
        bank_name=item.get("bank_name"),
        direct_debit=bool(item.get("direct_debit", False)),
        guardians=[
            Guardian(role=GuardianRole(g["role"]), **{k: g[k] for k in _GUARDIAN_FIELDS if k in g})
            for g in item["guardians"]
        ],
    )
    uow.repos.families.add(family)
    await uow.session.flush()
    school_year_start = _school_year_start(today)
    for child_item in item["children"]:
        await _create_child(uow, family, child_item, school_year_start)
    await _create_account(uow, structure, family, item, today)


async def _create_child(
    uow: UnitOfWork, family: Family, item: dict[str, Any], starts_on: dt.date
) -> None:
    child = Child(
        birth_date=dt.date.fromisoformat(item["birth_date"]),
        **{k: item[k] for k in _CHILD_FIELDS if k in item},
    )
    uow.session.add(child)
    await uow.session.flush()
    uow.session.add(FamilyChild(family_id=family.id, child_id=child.id))
    for code in item.get("services", []):
        service = await uow.repos.structure.service_by_code(code)
        if service is not None:
            uow.session.add(
                Enrolment(
                    child_id=child.id,
                    service_id=service.id,
                    family_id=family.id,
                    starts_on=starts_on,
                )
            )


async def _create_account(
    uow: UnitOfWork, structure: Structure, family: Family, item: dict[str, Any], today: dt.date
) -> None:
    """The family's past months as `/facturer` would have issued them.

    Each month of `history` records what the children attended (the first N days each service
    ran that month, status present), then issues the month with the billing service (lines,
    due date from `billing.due_days`, issued a few days after the month's end but never after
    `today`); a `paid` month gets a payment of its total ten days later (never after `today`).
    """
    regie = await uow.repos.structure.regie_by_code(structure.regies[0].code)
    assert regie is not None, "sync_structure must run before load_demo"
    children = {child.first_name: child for child in await uow.repos.families.children(family.id)}
    service_ids = {service.code: service.id for service in await uow.repos.structure.services()}
    calendar = Calendar(structure.school_holiday_zone, closures=[])
    runs = runs_for_billing(
        calendar, {service.code: service.rules.schedule for service in structure.services}
    )
    for month in sorted(item.get("history", []), key=lambda m: -m["months_ago"]):
        start = _month_start(today, month["months_ago"])
        period = BillingPeriod.month(start.year, start.month)
        for first_name, services in month.get("days", {}).items():
            child = children[first_name]
            for code, count in services.items():
                running = [day for day in _days(period) if runs(code, day)][: int(count)]
                for day in running:
                    uow.session.add(
                        DayEntry(
                            child_id=child.id,
                            service_id=service_ids[code],
                            family_id=family.id,
                            day=day,
                            status=DayStatus.PRESENT,
                            updated_at=_noon(day),
                        )
                    )
        await uow.session.flush()
        if "invoice_number" in month:
            await _raise_counter(
                uow, regie.id, Regie.next_invoice_number, int(month["invoice_number"])
            )
        issued_on = min(today, period.end + dt.timedelta(days=ISSUED_AFTER_DAYS))
        result = await issue_for_families(
            uow, structure, period, [family.id], today=issued_on, now=_noon(issued_on)
        )
        paid = month.get("paid")
        for issued in result.issued if paid else ():
            if "number" in paid:
                await _raise_counter(uow, regie.id, Regie.next_payment_number, int(paid["number"]))
            number = await uow.repos.accounts.next_payment_number(regie.id)
            uow.repos.accounts.add(
                Payment(
                    number=f"{regie.invoice_prefix}-{number}",
                    family_id=family.id,
                    regie_id=regie.id,
                    invoice_id=issued.invoice_id,
                    paid_on=min(today, issued_on + dt.timedelta(days=PAID_AFTER_DAYS)),
                    method=PaymentMethod(paid["method"]),
                    amount=issued.total,
                )
            )
        await uow.session.flush()


ISSUED_AFTER_DAYS = 5
PAID_AFTER_DAYS = 10


async def _raise_counter(uow: UnitOfWork, regie_id: int, column: Any, value: int) -> None:
    """Let the régie's next number be at least `value` (numbers are never reused: only raised)."""
    await uow.session.execute(
        update(Regie)
        .where(Regie.id == regie_id)
        .values({column: case((column < value, value), else_=column)})
    )


def _days(period: BillingPeriod) -> list[dt.date]:
    return [
        period.start + dt.timedelta(days=offset)
        for offset in range((period.end - period.start).days + 1)
    ]


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def _month_start(today: dt.date, months_ago: int) -> dt.date:
    index = today.year * 12 + today.month - 1 - months_ago
    return dt.date(index // 12, index % 12 + 1, 1)


def _school_year_start(today: dt.date) -> dt.date:
    year = today.year if today.month >= 9 else today.year - 1
    return dt.date(year, 9, 1)
