"""The relevé de compte of a school year, the paid status of invoices, and the attestation de garde.

Read-only snapshots for the dialogues; the sums come from `bot.domain.account`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.account import (
    AccountStatement,
    ChildcareLine,
    SchoolYear,
    allocate_payments,
    build_statement,
    childcare_paid,
    paid_by_invoice,
)
from bot.domain.model import PaymentMethod
from bot.services.billing import family_heading
from bot.structure import Structure
from storage.db import UnitOfWork
from storage.repositories import invoice_facts, payment_facts

ACTION_ATTESTATION = "attestation.document"

__all__ = [
    "AttestationDocument",
    "StatementView",
    "account_statement",
    "attestation_document",
    "attestation_years",
]


@dataclass(frozen=True)
class StatementView:
    """A school year's relevé with what the dialogue needs around it."""

    statement: AccountStatement
    paid: dict[int, Decimal]
    """Per invoice id of the year: how much was paid on it."""
    has_later_year: bool
    has_titre_payments: bool

    def due(self, invoice_id: int, total: Decimal) -> Decimal:
        """What remains to pay on an invoice of the year."""
        return max(total - self.paid.get(invoice_id, Decimal("0.00")), Decimal("0.00"))


async def account_statement(uow: UnitOfWork, family_id: int, year: SchoolYear, *, today: dt.date) -> StatementView:
    """The family's relevé de compte for ``year`` (the current one is `SchoolYear.of(today)`)."""
    invoices = [invoice_facts(i) for i in await uow.repos.accounts.invoices_of_family(family_id)]
    payments = [payment_facts(p) for p in await uow.repos.accounts.payments_of_family(family_id)]
    statement = build_statement(year, invoices, payments)
    paid = paid_by_invoice(allocate_payments(invoices, payments))
    return StatementView(
        statement=statement,
        paid=paid,
        has_later_year=year < SchoolYear.of(today),
        has_titre_payments=any(p.method is PaymentMethod.TITRE for p in statement.payments),
    )


@dataclass(frozen=True)
class AttestationChild:
    """A child of the attestation and what was paid for their care."""

    name: str
    birth_date: dt.date
    amount: Decimal


@dataclass(frozen=True)
class AttestationDocument:
    """Everything the attestation de frais de garde shows."""

    year: int
    family_number: str
    family_name: str
    address_lines: tuple[str, ...]
    children: tuple[AttestationChild, ...]
    issued_on: dt.date

    @property
    def total(self) -> Decimal:
        """Sum for all children."""
        return sum((child.amount for child in self.children), Decimal("0.00"))


async def attestation_years(uow: UnitOfWork, family_id: int, *, today: dt.date) -> list[int]:
    """Calendar years (up to this one) in which the family paid something, newest first."""
    years = {p.paid_on.year for p in await uow.repos.accounts.payments_of_family(family_id) if p.paid_on <= today}
    return sorted(years, reverse=True)


async def attestation_document(
    uow: UnitOfWork, structure: Structure, family_id: int, year: int, *, today: dt.date
) -> AttestationDocument:
    """The attestation of ``year``: per child under 7, the childcare paid that year."""
    family = await uow.repos.families.get(family_id)
    assert family is not None
    invoices = [invoice_facts(i) for i in await uow.repos.accounts.invoices_of_family(family_id)]
    payments = [payment_facts(p) for p in await uow.repos.accounts.payments_of_family(family_id)]
    childcare_ids = {
        service.id
        for service in await uow.repos.structure.services()
        if _is_childcare(structure, service.code)
    }
    lines = [
        ChildcareLine(line.invoice_id, line.child_id, line.amount)
        for line in await uow.repos.accounts.invoice_lines_of_family(family_id)
        if line.child_id is not None and line.service_id in childcare_ids
    ]
    children = {child.id: child for child in await uow.repos.families.children(family_id)}
    amounts = childcare_paid(year, invoices, payments, lines, {cid: c.birth_date for cid, c in children.items()})
    name, address = family_heading(family)
    return AttestationDocument(
        year=year,
        family_number=family.number,
        family_name=name,
        address_lines=address,
        children=tuple(
            AttestationChild(f"{children[cid].first_name} {children[cid].last_name}", children[cid].birth_date, amount)  # type: ignore[arg-type]
            for cid, amount in sorted(amounts.items(), key=lambda item: children[item[0]].first_name)
            if cid in children
        ),
        issued_on=today,
    )


def _is_childcare(structure: Structure, code: str) -> bool:
    try:
        tariff = structure.service(code).tariff
    except KeyError:
        return False
    return tariff is not None and tariff.childcare
