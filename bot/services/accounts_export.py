"""The month's invoices and payments for the régie's accounting software (or the Trésor public).

A plain read of what was issued and recorded: the same invoices, lines and amounts as the PDFs
(`bot.pdfs`), so that the accounts need nothing from the bot itself. Audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.billing import BillingPeriod
from bot.domain.model import GuardianRole, PaymentMethod
from bot.services.billing import family_heading
from bot.services.use_case import use_case
from storage.db import Database
from storage.models import Family

ACTION_EXPORT = "accounts.export"


@dataclass(frozen=True)
class Debtor:
    """Who owes an invoice: the family's responsable and postal address."""

    family_number: str
    name: str
    address: str
    postal_code: str
    city: str


@dataclass(frozen=True)
class ExportedLine:
    """One line of an invoice."""

    label: str
    service_code: str
    service_name: str
    child: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class ExportedInvoice:
    """An invoice with its lines."""

    number: str
    regie_code: str
    regie_name: str
    issued_on: dt.date
    due_on: dt.date
    period_start: dt.date
    period_end: dt.date
    debtor: Debtor
    total: Decimal
    lines: tuple[ExportedLine, ...]


@dataclass(frozen=True)
class ExportedPayment:
    """A payment recorded in the month."""

    number: str
    paid_on: dt.date
    regie_code: str
    debtor: Debtor
    method: PaymentMethod
    amount: Decimal
    invoice_number: str
    reference: str


@dataclass(frozen=True)
class MonthExport:
    """A month's invoices (those of its period) and payments (made in it)."""

    period: BillingPeriod
    invoices: tuple[ExportedInvoice, ...]
    payments: tuple[ExportedPayment, ...]

    @property
    def invoiced(self) -> Decimal:
        """Sum of the invoices."""
        return sum((invoice.total for invoice in self.invoices), Decimal("0.00"))

    @property
    def paid(self) -> Decimal:
        """Sum of the payments."""
        return sum((payment.amount for payment in self.payments), Decimal("0.00"))


def _debtor(family: Family | None) -> Debtor:
    if family is None:
        return Debtor("", "", "", "", "")
    name, _address = family_heading(family)
    guardian = family.guardian(GuardianRole.RESPONSABLE)
    return Debtor(
        family.number,
        name,
        (guardian.address or "") if guardian else "",
        (guardian.postal_code or "") if guardian else "",
        (guardian.city or "") if guardian else "",
    )


async def month_export(
    db: Database,
    period: BillingPeriod,
    *,
    now: dt.datetime,
    actor_id: int | None,
    actor_kind: str = "staff",
) -> MonthExport:
    """Read the month's invoices and payments; audited."""
    async with use_case(db) as uow:
        repo = uow.repos.accounting
        invoices = await repo.invoices_of_period(period.start, period.end)
        payments = await repo.payments_between(period.start, period.end)
        families = await repo.families(
            sorted({i.family_id for i in invoices} | {p.family_id for p in payments})
        )
        services = await repo.services()
        children = await repo.children(
            sorted({line.child_id for i in invoices for line in i.lines if line.child_id})
        )
        numbers = await repo.invoice_numbers(
            sorted({p.invoice_id for p in payments if p.invoice_id})
        )
        exported = tuple(
            ExportedInvoice(
                number=invoice.number,
                regie_code=invoice.regie.code,
                regie_name=invoice.regie.name,
                issued_on=invoice.issued_on,
                due_on=invoice.due_on,
                period_start=invoice.period_start,
                period_end=invoice.period_end,
                debtor=_debtor(families.get(invoice.family_id)),
                total=invoice.total,
                lines=tuple(
                    ExportedLine(
                        label=line.label,
                        service_code=services[line.service_id].code
                        if line.service_id in services
                        else "",
                        service_name=services[line.service_id].name
                        if line.service_id in services
                        else "",
                        child=children[line.child_id].first_name
                        if line.child_id in children
                        else "",
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        amount=line.amount,
                    )
                    for line in invoice.lines
                ),
            )
            for invoice in invoices
        )
        recorded = tuple(
            ExportedPayment(
                number=payment.number,
                paid_on=payment.paid_on,
                regie_code=payment.regie.code,
                debtor=_debtor(families.get(payment.family_id)),
                method=payment.method,
                amount=payment.amount,
                invoice_number=numbers.get(payment.invoice_id or 0, ""),
                reference=payment.reference or "",
            )
            for payment in payments
        )
        uow.repos.audit.record(
            action=ACTION_EXPORT,
            outcome="ok",
            actor_telegram_id=actor_id,
            actor_kind=actor_kind,
            target=period.code,
            details={"invoices": len(exported), "payments": len(recorded)},
            at=now,
        )
    return MonthExport(period, exported, recorded)
