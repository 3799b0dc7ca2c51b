"""Queries of the accounts export: a month's invoices with their lines, and its payments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Child, Family, Invoice, Payment, Service


class AccountingRepository:
    """What the régie's accounting software needs, read in a few queries."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def invoices_of_period(self, first: dt.date, last: dt.date) -> Sequence[Invoice]:
        """Invoices whose period starts between `first` and `last`, lines and régie loaded, by number."""
        stmt = (
            select(Invoice)
            .where(Invoice.period_start >= first, Invoice.period_start <= last)
            .options(selectinload(Invoice.lines), selectinload(Invoice.regie))
            .order_by(Invoice.regie_id, Invoice.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def payments_between(self, first: dt.date, last: dt.date) -> Sequence[Payment]:
        """Payments made between `first` and `last`, régie loaded, in order."""
        stmt = (
            select(Payment)
            .where(Payment.paid_on >= first, Payment.paid_on <= last)
            .options(selectinload(Payment.regie))
            .order_by(Payment.paid_on, Payment.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def families(self, family_ids: Sequence[int]) -> dict[int, Family]:
        """Families by id, guardians loaded."""
        if not family_ids:
            return {}
        stmt = (
            select(Family)
            .where(Family.id.in_(list(family_ids)))
            .options(selectinload(Family.guardians))
        )
        return {family.id: family for family in (await self.session.execute(stmt)).scalars()}

    async def invoice_numbers(self, invoice_ids: Sequence[int]) -> dict[int, str]:
        """Invoice numbers by id."""
        if not invoice_ids:
            return {}
        stmt = select(Invoice.id, Invoice.number).where(Invoice.id.in_(list(invoice_ids)))
        return {row.id: row.number for row in (await self.session.execute(stmt)).all()}

    async def services(self) -> dict[int, Service]:
        """Every service by id."""
        return {
            service.id: service
            for service in (await self.session.execute(select(Service))).scalars()
        }

    async def children(self, child_ids: Sequence[int]) -> dict[int, Child]:
        """Children by id."""
        if not child_ids:
            return {}
        stmt = select(Child).where(Child.id.in_(list(child_ids)))
        return {child.id: child for child in (await self.session.execute(stmt)).scalars()}
