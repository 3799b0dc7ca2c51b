"""Invoices: issue a month's invoices, tell families, get an invoice's document, see one's prices.

`issue_invoices` is idempotent: a family's invoice of a régie for a month is created once
(the database's unique (family, régie, period_start) backs it), so issuing a month twice
changes nothing. Régies are locked first, so two concurrent runs take turns; numbers come from
one atomic UPDATE of the régie and are never reused. Each new invoice leaves one notice per
linked Telegram account in an outbox (`reminder_log`, kind "invoice_issued"), sent and marked by the
dialogue layer: a notice lost to a crash is sent by the next run, and never twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.domain.account import allocate_payments, paid_by_invoice
from bot.domain.billing import (
    BillableService,
    BillingPeriod,
    DayConsumption,
    MissingTariffError,
    compute_invoices,
    runs_for_billing,
)
from bot.domain.calendar import Calendar, Closure
from bot.domain.model import GuardianRole, Regime
from bot.domain.tariffs import Unit
from bot.structure import Structure
from storage.db import UnitOfWork
from storage.models import Family, Invoice, InvoiceLine
from storage.repositories import invoice_facts, payment_facts

ACTION_ISSUE = "invoices.issue"
ACTION_DOCUMENT = "invoice.document"
NOTICE_INVOICE = "invoice_issued"  # not "invoice": that kind is the due-date reminder

__all__ = [
    "ACTION_DOCUMENT",
    "ACTION_ISSUE",
    "NOTICE_INVOICE",
    "FamilyTariffs",
    "InvoiceDocument",
    "InvoiceNotice",
    "IssueOutcome",
    "IssueResult",
    "IssuedInvoice",
    "MissingTariff",
    "TariffItem",
    "family_tariffs",
    "invoice_document",
    "issue_invoices",
    "mark_notice_sent",
    "pending_invoice_notices",
]


class MissingTariff(Exception):
    """A service with days to bill has no prices in the structure file (the code is the arg)."""


class IssueOutcome(StrEnum):
    """What became of a request to issue a month's invoices."""

    ISSUED = "issued"
    MONTH_NOT_OVER = "month_not_over"


@dataclass(frozen=True)
class IssuedInvoice:
    """An invoice created by this run."""

    invoice_id: int
    number: str
    family_id: int
    total: Decimal


@dataclass(frozen=True)
class IssueResult:
    """What a run of `issue_invoices` did."""

    outcome: IssueOutcome
    period: BillingPeriod
    issued: tuple[IssuedInvoice, ...] = ()
    already_issued: int = 0
    undecided_absences: int = 0
    """Late absences still awaiting staff that were billed (as the rule says, unless excused)."""

    @property
    def total(self) -> Decimal:
        """Sum of the invoices created."""
        return sum((item.total for item in self.issued), Decimal("0.00"))


async def issue_invoices(
    uow: UnitOfWork,
    structure: Structure,
    period: BillingPeriod,
    *,
    today: dt.date,
    now: dt.datetime,
    actor_telegram_id: int | None,
    actor_kind: str,
) -> IssueResult:
    """Create the month's invoices of every family from its day entries (see the module doc).

    A month is billed once it is over. Raises `MissingTariff` when a service with billed days
    has no prices (nothing is written then: the caller rolls back).
    """
    if period.end >= today:
        return IssueResult(IssueOutcome.MONTH_NOT_OVER, period)
    repo = uow.repos.accounts
    regies = {regie.code: regie for regie in await repo.regies_for_update()}
    service_codes = {service.id: service.code for service in await uow.repos.structure.services()}
    service_ids = {code: service_id for service_id, code in service_codes.items()}
    configured = {service.code: service for service in structure.services}
    billable = {
        code: BillableService(code, service.name, service.regie, service.tariff) for code, service in configured.items()
    }
    closures = [Closure(day, code, reason) for day, code, reason in await repo.closures_between(period.start, period.end)]
    calendar = Calendar(structure.school_holiday_zone, closures=closures)
    runs = runs_for_billing(calendar, {code: service.rules.schedule for code, service in configured.items()})

    by_family: dict[int, list[DayConsumption]] = defaultdict(list)
    for entry in await repo.day_entries_between(period.start, period.end):
        code = service_codes.get(entry.service_id)
        if code in billable:
            by_family[entry.family_id].append(DayConsumption(entry.child_id, code, entry.day, entry.status))
    child_ids = sorted({c.child_id for entries in by_family.values() for c in entries})
    names = {child.id: child.first_name for child in await repo.children_by_ids(child_ids)}

    issued: list[IssuedInvoice] = []
    already = undecided = 0
    for family_id in sorted(by_family):
        family = await uow.repos.families.get(family_id)
        if family is None:
            continue
        try:
            drafts = compute_invoices(
                by_family[family_id], period=period, services=billable, children=names,
                quotient=family.quotient_familial, regime=family.regime, runs=runs,
            )
        except MissingTariffError as exc:
            raise MissingTariff(str(exc.args[0])) from exc
        for draft in drafts:
            regie = regies[draft.regie]
            if draft.total <= 0:
                continue
            if await repo.invoice_exists(family_id, regie.id, period.start):
                already += 1
                continue
            number = f"{regie.invoice_prefix}-{await repo.next_invoice_number(regie.id)}"
            invoice = Invoice(
                number=number, family_id=family_id, regie_id=regie.id, period_start=period.start,
                period_end=period.end, issued_on=today, due_on=today + dt.timedelta(days=structure.billing.due_days),
                total=draft.total,
                lines=[
                    InvoiceLine(
                        child_id=line.child_id, service_id=service_ids.get(line.service_code),
                        label=line.label[:200], quantity=line.quantity, unit_price=line.unit_price, amount=line.amount,
                    )
                    for line in draft.lines
                ],
            )
            repo.add(invoice)
            await uow.session.flush()
            undecided += sum(line.undecided_absences for line in draft.lines)
            issued.append(IssuedInvoice(invoice.id, number, family_id, invoice.total))
            for link in await uow.repos.telegram.active_links_of_family(family_id):
                repo.add_notice(NOTICE_INVOICE, link.telegram_user_id, number)
    uow.repos.audit.record(
        action=ACTION_ISSUE, outcome="ok", actor_telegram_id=actor_telegram_id, actor_kind=actor_kind,
        target=period.code, details={"issued": len(issued), "already_issued": already}, at=now,
    )
    return IssueResult(IssueOutcome.ISSUED, period, tuple(issued), already, undecided)


# --- notices -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceNotice:
    """One "a new invoice is available" message to send to one Telegram account."""

    notice_id: int
    user_id: int
    language: str | None
    invoice_id: int
    number: str
    period_start: dt.date
    period_end: dt.date
    due_on: dt.date
    total: Decimal


async def pending_invoice_notices(uow: UnitOfWork, now: dt.datetime) -> list[InvoiceNotice]:
    """Notices still to send; those of an unlinked account or a vanished invoice are dropped."""
    notices: list[InvoiceNotice] = []
    for row in await uow.repos.accounts.pending_notices(NOTICE_INVOICE):
        invoice = await uow.repos.accounts.invoice_by_number(row.subject)
        link = await uow.repos.telegram.active_link(row.recipient)
        if invoice is None or link is None or link.family_id != invoice.family_id:
            await uow.repos.accounts.mark_notice_sent(row.id, now)
            continue
        user = await uow.repos.telegram.get_user(row.recipient)
        notices.append(
            InvoiceNotice(
                row.id, row.recipient, user.language if user else None, invoice.id, invoice.number,
                invoice.period_start, invoice.period_end, invoice.due_on, invoice.total,
            )
        )
    return notices


async def mark_notice_sent(uow: UnitOfWork, notice_id: int, now: dt.datetime) -> None:
    """The notice was sent, or given up (the user blocked the bot)."""
    await uow.repos.accounts.mark_notice_sent(notice_id, now)


# --- the invoice's document ----------------------------------------------------------------


@dataclass(frozen=True)
class DocumentLine:
    """A line of the invoice as printed."""

    label: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything the invoice PDF shows."""

    invoice_id: int
    number: str
    regie: str
    family_number: str
    family_name: str
    address_lines: tuple[str, ...]
    issued_on: dt.date
    due_on: dt.date
    period_start: dt.date
    period_end: dt.date
    lines: tuple[DocumentLine, ...]
    total: Decimal
    paid: Decimal

    @property
    def due(self) -> Decimal:
        """What remains to pay."""
        return max(self.total - self.paid, Decimal("0.00"))


async def invoice_document(
    uow: UnitOfWork, family_id: int, invoice_id: int, *, actor_telegram_id: int, now: dt.datetime
) -> InvoiceDocument | None:
    """The invoice of the family, or None (audited as refused) when it is not theirs."""
    invoice = await uow.repos.accounts.get_invoice(invoice_id)
    if invoice is None or invoice.family_id != family_id:
        uow.repos.audit.record(
            action=ACTION_DOCUMENT, outcome="refused", actor_telegram_id=actor_telegram_id, actor_kind="parent",
            family_id=family_id, target=f"invoice:{invoice_id}", at=now,
        )
        return None
    family = await uow.repos.families.get(family_id)
    assert family is not None
    paid = await _paid_on(uow, family_id, invoice.id)
    name, address = family_heading(family)
    return InvoiceDocument(
        invoice_id=invoice.id, number=invoice.number, regie=invoice.regie.name, family_number=family.number,
        family_name=name, address_lines=address, issued_on=invoice.issued_on, due_on=invoice.due_on,
        period_start=invoice.period_start, period_end=invoice.period_end,
        lines=tuple(DocumentLine(line.label, line.quantity, line.unit_price, line.amount) for line in invoice.lines),
        total=invoice.total, paid=paid,
    )


async def _paid_on(uow: UnitOfWork, family_id: int, invoice_id: int) -> Decimal:
    invoices = [invoice_facts(i) for i in await uow.repos.accounts.invoices_of_family(family_id)]
    payments = [payment_facts(p) for p in await uow.repos.accounts.payments_of_family(family_id)]
    return paid_by_invoice(allocate_payments(invoices, payments)).get(invoice_id, Decimal("0.00"))


def family_heading(family: Family) -> tuple[str, tuple[str, ...]]:
    """The responsable's name ("Monsieur DUPONT JEAN") and postal address lines."""
    guardian = family.guardian(GuardianRole.RESPONSABLE)
    if guardian is None:
        return "", ()
    name = " ".join(part for part in (guardian.civility, guardian.last_name, guardian.first_name) if part)
    city = " ".join(part for part in (guardian.postal_code, guardian.city) if part)
    return name, tuple(part for part in (guardian.address, city) if part)


# --- tarifs en cours -----------------------------------------------------------------------


@dataclass(frozen=True)
class TariffItem:
    """A service's price for the family."""

    service: str
    unit: Unit
    price: Decimal


@dataclass(frozen=True)
class FamilyTariffs:
    """"Tarifs en cours": the family's quotient familial, régime and unit prices."""

    quotient: Decimal | None
    regime: Regime | None
    items: tuple[TariffItem, ...]


async def family_tariffs(uow: UnitOfWork, structure: Structure, family_id: int) -> FamilyTariffs:
    """The prices the family pays for each billed service of the structure."""
    family = await uow.repos.families.get(family_id)
    quotient = family.quotient_familial if family else None
    regime = family.regime if family else None
    items = tuple(
        TariffItem(service.name, service.tariff.unit, service.tariff.price_for(quotient, regime).price)
        for service in structure.services
        if service.tariff is not None
    )
    return FamilyTariffs(quotient, regime, items)
