"""The demo families (bot/demo/families.yaml), loaded once so every screen has something to show.

Loading is idempotent: a family whose N° famille exists is left untouched.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from bot.domain.model import GuardianRole, PaymentMethod, Regime
from bot.structure import Structure
from storage.db import UnitOfWork
from storage.models import Child, Enrolment, Family, FamilyChild, Guardian, Invoice, Payment

DEMO_FAMILIES_FILE = Path(__file__).resolve().parent.parent / "demo" / "families.yaml"
_GUARDIAN_FIELDS = (
    "civility", "last_name", "first_name", "quality", "situation", "address", "postal_code", "city",
    "phone_home", "phone_work", "phone_mobile", "email", "profession", "csp", "employer",
    "employer_address", "sms_consent", "email_consent",
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


async def _create_family(uow: UnitOfWork, structure: Structure, item: dict[str, Any], today: dt.date) -> None:
    family = Family(
        number=item["number"],
        regime=Regime(item["regime"]) if item.get("regime") else None,
        caf_number=item.get("caf_number"),
        caf_children_count=item.get("caf_children_count"),
        quotient_familial=Decimal(item["quotient_familial"]) if item.get("quotient_familial") else None,
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


async def _create_child(uow: UnitOfWork, family: Family, item: dict[str, Any], starts_on: dt.date) -> None:
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
            uow.session.add(Enrolment(child_id=child.id, service_id=service.id, family_id=family.id, starts_on=starts_on))


async def _create_account(
    uow: UnitOfWork, structure: Structure, family: Family, item: dict[str, Any], today: dt.date
) -> None:
    regie = await uow.repos.structure.regie_by_code(structure.regies[0].code)
    assert regie is not None, "sync_structure must run before load_demo"
    invoices: dict[int, Invoice] = {}
    for inv in item.get("invoices", []):
        start = _month_start(today, inv["months_ago"])
        end = _month_start(today, inv["months_ago"] - 1) - dt.timedelta(days=1)
        invoice = Invoice(
            number=f"{regie.invoice_prefix}-{inv['number']}",
            family_id=family.id,
            regie_id=regie.id,
            period_start=start,
            period_end=end,
            issued_on=end + dt.timedelta(days=5),
            due_on=end + dt.timedelta(days=30),
            total=Decimal(inv["total"]),
        )
        uow.repos.accounts.add(invoice)
        invoices[inv["number"]] = invoice
        regie.next_invoice_number = max(regie.next_invoice_number, inv["number"] + 1)
    await uow.session.flush()
    for pay in item.get("payments", []):
        invoice = invoices[pay["invoice"]]
        uow.repos.accounts.add(
            Payment(
                number=f"{regie.invoice_prefix}-{pay['number']}",
                family_id=family.id,
                regie_id=regie.id,
                invoice_id=invoice.id,
                paid_on=invoice.issued_on + dt.timedelta(days=10),
                method=PaymentMethod(pay["method"]),
                amount=Decimal(pay["amount"]),
            )
        )
        regie.next_payment_number = max(regie.next_payment_number, pay["number"] + 1)


def _month_start(today: dt.date, months_ago: int) -> dt.date:
    index = today.year * 12 + today.month - 1 - months_ago
    return dt.date(index // 12, index % 12 + 1, 1)


def _school_year_start(today: dt.date) -> dt.date:
    year = today.year if today.month >= 9 else today.year - 1
    return dt.date(year, 9, 1)
