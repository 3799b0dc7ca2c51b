"""The demo, loaded on a given day: every date in its past, its money what /facturer issues."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.structure import Structure
from storage.db import Database
from storage.models import DayEntry, Invoice, Payment
from tests.conftest import seed_demo


@pytest.mark.parametrize(
    "today", [dt.date(2026, 12, 1), dt.date(2026, 11, 23), dt.date(2027, 1, 3), dt.date(2026, 9, 2)]
)
async def test_the_demo_loaded_on_a_day_dates_everything_in_its_past(
    database: Database, structure: Structure, today: dt.date
) -> None:
    await seed_demo(database, structure, today)
    async with database.unit_of_work() as uow:
        invoices = (await uow.session.execute(select(Invoice))).scalars().all()
        payments = (await uow.session.execute(select(Payment))).scalars().all()
        last_day = (await uow.session.execute(select(func.max(DayEntry.day)))).scalar_one()
    assert invoices and all(i.period_end < today and i.issued_on <= today for i in invoices)
    assert all(
        i.due_on == i.issued_on + dt.timedelta(days=structure.billing.due_days) for i in invoices
    )
    assert all(p.paid_on <= today for p in payments)
    assert last_day is not None and last_day < today


async def test_the_demo_invoices_are_what_issuing_the_month_bills(
    demo_database: Database, structure: Structure
) -> None:
    async with demo_database.unit_of_work() as uow:
        invoices = {
            i.number: i for i in (await uow.session.execute(select(Invoice))).scalars().all()
        }
        for invoice in invoices.values():
            await uow.session.refresh(invoice, ["lines"])
        assert sorted(invoices) == ["AL-12", "AL-36"]
        assert (invoices["AL-36"].period_start, invoices["AL-36"].total) == (
            dt.date(2026, 10, 1),
            Decimal("120.60"),
        )
        assert invoices["AL-12"].total == Decimal("243.20")
        for invoice in invoices.values():
            assert invoice.lines and sum(line.amount for line in invoice.lines) == invoice.total
        cantine = next(
            line
            for line in invoices["AL-36"].lines
            if line.label == "Restauration scolaire — LUCAS"
        )
        assert (cantine.quantity, cantine.unit_price) == (Decimal("10"), Decimal("3.50"))
        (payment,) = (await uow.session.execute(select(Payment))).scalars().all()
        assert (payment.number, payment.invoice_id, payment.amount) == (
            "AL-228",
            invoices["AL-12"].id,
            Decimal("243.20"),
        )
