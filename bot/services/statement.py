"""The parent's money: relevé de compte, Mes factures and Mes règlements, an invoice's PDF and
its "new invoice" message, the attestation de frais de garde, the Tarifs en cours, and paying
an invoice online.

The public use cases take the `Database` and the parent's Telegram user id, open their one
transaction (`family_use_case`: `NotLinked` when the account is not linked) and return plain
snapshots; what is due comes from `bot.domain.account.amounts_due`. Every invoice id from a
button is checked against the account's family, and a forged one is audited. The functions
taking a `UnitOfWork` (here, in `bot.services.billing` and `bot.services.payments`) are
building blocks for these use cases' transactions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.account import (
    AccountStatement,
    ChildcareLine,
    SchoolYear,
    amounts_due,
    build_statement,
    childcare_paid,
)
from bot.domain.model import PaymentMethod
from bot.services import payments
from bot.services.billing import (
    FamilyTariffs,
    InvoiceDocument,
    family_heading,
    family_tariffs,
    invoice_document,
)
from bot.services.payments import OnlineCheck
from bot.services.use_case import family_use_case, use_case
from bot.structure import Structure
from storage.db import Database, UnitOfWork
from storage.repositories import invoice_facts, payment_facts

ACTION_ATTESTATION = "attestation.document"

__all__ = [
    "AttestationDocument",
    "PaymentsView",
    "StatementView",
    "account_statement",
    "attestation_document",
    "attestation_years",
    "childcare_attestation",
    "current_tariffs",
    "invoice_pdf",
    "new_invoice",
    "online_payment_check",
    "payments_of_year",
    "pre_checkout_check",
    "record_telegram_payment",
    "statement_of_year",
]


@dataclass(frozen=True)
class StatementView:
    """A school year's relevé with what the dialogue needs around it."""

    statement: AccountStatement
    dues: dict[int, Decimal]
    """Per invoice id of the family: what remains to pay on it."""
    has_later_year: bool
    has_titre_payments: bool

    def due(self, invoice_id: int, total: Decimal) -> Decimal:
        """What remains to pay on an invoice of the year (its total when unknown)."""
        return self.dues.get(invoice_id, total)


@dataclass(frozen=True)
class PaymentsView:
    """Mes règlements: the year's relevé and the calendar years with an attestation."""

    view: StatementView
    attestation_years: list[int]


async def statement_of_year(
    db: Database, user_id: int, year: SchoolYear, *, today: dt.date
) -> StatementView:
    """The relevé de compte of the account's family for a school year."""
    async with family_use_case(db, user_id, read_only=True) as (uow, family_id):
        return await account_statement(uow, family_id, year, today=today)


async def payments_of_year(
    db: Database, user_id: int, year: SchoolYear, *, today: dt.date
) -> PaymentsView:
    """Mes règlements of a school year, with the years an attestation can be asked for."""
    async with family_use_case(db, user_id, read_only=True) as (uow, family_id):
        view = await account_statement(uow, family_id, year, today=today)
        return PaymentsView(view, await attestation_years(uow, family_id, today=today))


async def account_statement(
    uow: UnitOfWork, family_id: int, year: SchoolYear, *, today: dt.date
) -> StatementView:
    """The family's relevé de compte for ``year`` (the current one is `SchoolYear.of(today)`)."""
    invoices = [invoice_facts(i) for i in await uow.repos.accounts.invoices_of_family(family_id)]
    payments = [payment_facts(p) for p in await uow.repos.accounts.payments_of_family(family_id)]
    statement = build_statement(year, invoices, payments)
    return StatementView(
        statement=statement,
        dues=amounts_due(invoices, payments),
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


async def childcare_attestation(
    db: Database, user_id: int, structure: Structure, year: int, *, today: dt.date
) -> AttestationDocument:
    """The account's family's attestation de frais de garde of a calendar year."""
    async with family_use_case(db, user_id) as (uow, family_id):
        return await attestation_document(uow, structure, family_id, year, today=today)


async def attestation_years(uow: UnitOfWork, family_id: int, *, today: dt.date) -> list[int]:
    """Calendar years (up to this one) in which the family paid something, newest first."""
    years = {
        p.paid_on.year
        for p in await uow.repos.accounts.payments_of_family(family_id)
        if p.paid_on <= today
    }
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
    amounts = childcare_paid(
        year, invoices, payments, lines, {cid: c.birth_date for cid, c in children.items()}
    )
    attested: list[AttestationChild] = []
    for cid, amount in sorted(amounts.items(), key=lambda item: children[item[0]].first_name):
        child = children.get(cid)
        if child is not None and child.birth_date is not None:  # childcare_paid needs one
            full_name = f"{child.first_name} {child.last_name}"
            attested.append(AttestationChild(full_name, child.birth_date, amount))
    name, address = family_heading(family)
    return AttestationDocument(
        year=year,
        family_number=family.number,
        family_name=name,
        address_lines=address,
        children=tuple(attested),
        issued_on=today,
    )


def _is_childcare(structure: Structure, code: str) -> bool:
    try:
        tariff = structure.service(code).tariff
    except KeyError:
        return False
    return tariff is not None and tariff.childcare


# --- Tarifs en cours -----------------------------------------------------------------------


async def current_tariffs(db: Database, user_id: int, structure: Structure) -> FamilyTariffs:
    """The prices the account's family pays, from its quotient familial and régime."""
    async with family_use_case(db, user_id, read_only=True) as (uow, family_id):
        return await family_tariffs(uow, structure, family_id)


# --- an invoice: its PDF, its "new invoice" message, paying it online ----------------------


async def invoice_pdf(
    db: Database, user_id: int, invoice_id: int | None, *, now: dt.datetime
) -> InvoiceDocument | None:
    """What the invoice's PDF shows; None (audited) when it is not the account's family's."""
    async with family_use_case(db, user_id) as (uow, family_id):
        return await invoice_document(
            uow, family_id, invoice_id or 0, actor_telegram_id=user_id, now=now
        )


@dataclass(frozen=True)
class NewInvoice:
    """What "a new invoice is available" says about an invoice, read when it is sent."""

    invoice_id: int
    number: str
    period_start: dt.date
    period_end: dt.date
    due_on: dt.date
    total: Decimal
    due: Decimal
    """What remains to pay on it now."""


async def new_invoice(db: Database, invoice_id: int, user_id: int) -> NewInvoice | None:
    """The invoice a message announces to an account; None when it is gone or the account is
    no longer linked to its family."""
    async with use_case(db) as uow:
        invoice = await uow.repos.accounts.get_invoice(invoice_id)
        link = await uow.repos.telegram.active_link(user_id)
        if invoice is None or link is None or link.family_id != invoice.family_id:
            return None
        invoices = [
            invoice_facts(i) for i in await uow.repos.accounts.invoices_of_family(invoice.family_id)
        ]
        paid = [
            payment_facts(p) for p in await uow.repos.accounts.payments_of_family(invoice.family_id)
        ]
        due = amounts_due(invoices, paid).get(invoice.id, invoice.total)
        return NewInvoice(
            invoice.id,
            invoice.number,
            invoice.period_start,
            invoice.period_end,
            invoice.due_on,
            invoice.total,
            due,
        )


async def online_payment_check(
    db: Database, user_id: int, invoice_id: int | None, *, now: dt.datetime
) -> OnlineCheck:
    """Whether the account's family may pay this invoice online now, and how much (forged ids audited)."""
    async with family_use_case(db, user_id) as (uow, family_id):
        return await payments.check_online_payment(
            uow, family_id, invoice_id or 0, actor_telegram_id=user_id, now=now
        )


async def pre_checkout_check(
    db: Database, *, user_id: int, payload: str, currency: str, total_amount: int, now: dt.datetime
) -> OnlineCheck:
    """Telegram asks before charging: the invoice is the payer's family's and still due that much."""
    async with use_case(db) as uow:
        return await payments.validate_pre_checkout(
            uow,
            user_id=user_id,
            payload=payload,
            currency=currency,
            total_amount=total_amount,
            now=now,
        )


async def record_telegram_payment(
    db: Database,
    *,
    user_id: int,
    payload: str,
    total_amount: int,
    charge_id: str,
    provider_charge_id: str,
    today: dt.date,
    now: dt.datetime,
) -> OnlineCheck:
    """Record a successful Telegram payment once, in one transaction (its charge id again is a
    `DUPLICATE`). Nobody else is told: the parent's thanks is the answer to the update."""
    async with use_case(db) as uow:
        return await payments.record_online_payment(
            uow,
            user_id=user_id,
            payload=payload,
            total_amount=total_amount,
            charge_id=charge_id,
            provider_charge_id=provider_charge_id,
            today=today,
            now=now,
        )
