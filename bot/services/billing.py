"""Invoices: issue a month's invoices, tell families, get an invoice's document, see one's prices.

`issue_invoices` (staff's /facturer and `portail-famille invoices issue`) owns its
transaction and is idempotent: a family's invoice of a régie for a month is created once (the
database's unique (family, régie, period_start) backs it), so issuing a month twice changes
nothing. Régies are locked first, so two concurrent runs take turns; numbers come from one
atomic UPDATE of the régie and are never reused. Each new invoice writes, in the same
transaction, one outbox row per linked Telegram account (`TEMPLATE_INVOICE_ISSUED`, priority
BROADCAST): the notices commit with the invoices and the bot's sender delivers them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.domain.account import amounts_due
from bot.domain.attendance import is_hors_contrat
from bot.domain.billing import (
    BillableService,
    BillingPeriod,
    DayConsumption,
    InvoiceDraft,
    LineDraft,
    MissingTariffError,
    compute_invoices,
    runs_for_billing,
)
from bot.domain.calendar import PARIS, Calendar, Closure
from bot.domain.model import GuardianRole, Regime
from bot.domain.tariffs import Basis, Unit
from bot.i18n import DEFAULT_LANGUAGE, _, ngettext, use_language
from bot.services.outbox import ACCOUNT, Priority, queue_many
from bot.services.staff_audit import audit_staff
from bot.services.use_case import use_case
from bot.structure import Structure
from storage.db import Database, UnitOfWork
from storage.models import Family, Invoice, InvoiceLine, Regie
from storage.outbox_repository import NewMessage
from storage.repositories import invoice_facts, payment_facts

ACTION_ISSUE = "invoices.issue"
ACTION_DOCUMENT = "invoice.document"
TEMPLATE_INVOICE_ISSUED = "billing.invoice_issued"
"""A new invoice is available, told to one linked account: {"invoice_id", "account"} (rendered
by `conversations.invoices`)."""

__all__ = [
    "ACTION_DOCUMENT",
    "ACTION_ISSUE",
    "TEMPLATE_INVOICE_ISSUED",
    "FamilyTariffs",
    "InvoiceDocument",
    "IssueOutcome",
    "IssueResult",
    "IssuedInvoice",
    "MissingTariff",
    "TariffItem",
    "family_tariffs",
    "invoice_document",
    "issue_for_families",
    "issue_invoices",
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
    notices: int = 0
    """New-invoice messages queued: one per linked account of each invoiced family."""

    @property
    def total(self) -> Decimal:
        """Sum of the invoices created."""
        return sum((item.total for item in self.issued), Decimal("0.00"))


async def issue_invoices(
    db: Database,
    structure: Structure,
    period: BillingPeriod,
    *,
    today: dt.date,
    now: dt.datetime,
    actor_telegram_id: int | None,
    actor_kind: str,
) -> IssueResult:
    """Create the month's invoices of every family and queue their notices (see the module doc).

    A month is billed once it is over. Raises `MissingTariff` when a service with billed days
    has no prices: nothing of the run is kept then, only its audit row ("failed").
    """
    async with use_case(db) as uow:
        try:
            result = await _issue_invoices(uow, structure, period, today=today, now=now)
        except MissingTariff as exc:
            await uow.rollback()  # nothing of the run is kept, but that it failed is
            _audit_issue(
                uow,
                actor_telegram_id,
                actor_kind,
                period,
                now,
                "failed",
                {"missing_tariff": str(exc.args[0])},
            )
            await uow.commit()
            raise
        if result.outcome is IssueOutcome.ISSUED:
            details: dict[str, object] = {
                "issued": len(result.issued),
                "already_issued": result.already_issued,
            }
            _audit_issue(uow, actor_telegram_id, actor_kind, period, now, "ok", details)
        else:
            _audit_issue(
                uow,
                actor_telegram_id,
                actor_kind,
                period,
                now,
                "refused",
                {"result": result.outcome.value},
            )
        return result


def _audit_issue(
    uow: UnitOfWork,
    actor_id: int | None,
    actor_kind: str,
    period: BillingPeriod,
    now: dt.datetime,
    outcome: str,
    details: dict[str, object],
) -> None:
    if actor_kind == "staff":
        audit_staff(
            uow,
            actor_id,
            ACTION_ISSUE,
            now=now,
            outcome=outcome,
            target=period.code,
            details=details,
        )
    else:
        uow.repos.audit.record(
            action=ACTION_ISSUE,
            outcome=outcome,
            actor_telegram_id=actor_id,
            actor_kind=actor_kind,
            target=period.code,
            details=details,
            at=now,
        )


@dataclass(frozen=True)
class _BillingInputs:
    """What a month's invoicing reads once: régies, services, days the services ran, consumption."""

    regies: dict[str, Regie]
    service_ids: dict[str, int]
    billable: dict[str, BillableService]
    runs: Callable[[str, dt.date], bool]
    by_family: dict[int, list[DayConsumption]]
    names: dict[int, str]


async def _billing_inputs(
    uow: UnitOfWork, structure: Structure, period: BillingPeriod
) -> _BillingInputs:
    repo = uow.repos.accounts
    regies = {regie.code: regie for regie in await repo.regies_for_update()}
    service_codes = {service.id: service.code for service in await uow.repos.structure.services()}
    configured = {service.code: service for service in structure.services}
    billable = {
        code: BillableService(
            code,
            service.name,
            service.regie,
            service.tariff,
            service.attendance,
            service.rules.starts,
            service.rules.ends,
        )
        for code, service in configured.items()
    }
    closures = [
        Closure(day, code, reason)
        for day, code, reason in await repo.closures_between(period.start, period.end)
    ]
    calendar = Calendar(structure.school_holiday_zone, closures=closures)
    runs = runs_for_billing(
        calendar, {code: service.rules.schedule for code, service in configured.items()}
    )
    marks = {
        (mark.child_id, mark.service_id, mark.day): mark
        for mark in await uow.repos.attendance.marks_between(period.start, period.end)
    }
    by_family: dict[int, list[DayConsumption]] = defaultdict(list)
    for entry in await repo.day_entries_between(period.start, period.end):
        code = service_codes.get(entry.service_id)
        if code in billable:
            mark = marks.get((entry.child_id, entry.service_id, entry.day))
            by_family[entry.family_id].append(
                DayConsumption(
                    entry.child_id,
                    code,
                    entry.day,
                    entry.status,
                    hors_contrat=mark is not None
                    and mark.present
                    and is_hors_contrat(mark.planned),
                    arrival=_local_time(mark.arrived_at if mark else None, entry.day),
                    departure=_local_time(mark.left_at if mark else None, entry.day),
                )
            )
    child_ids = sorted({c.child_id for entries in by_family.values() for c in entries})
    names = {child.id: child.first_name for child in await repo.children_by_ids(child_ids)}
    service_ids = {code: service_id for service_id, code in service_codes.items()}
    return _BillingInputs(regies, service_ids, billable, runs, by_family, names)


def line_label(line: LineDraft) -> str:
    """An invoice line's label, saying what was counted when it is not simply booked days.

    Written in the invoice's language (French), as stored on the invoice.
    """
    with use_language(DEFAULT_LANGUAGE):
        parts: list[str] = []
        if line.hors_contrat:
            parts.append(_("without a booking (hors contrat)"))
        if line.basis is Basis.PRESENT or (line.hors_contrat and line.basis is Basis.BOOKED):
            parts.append(
                ngettext("{count} day present", "{count} days present", line.present_days).format(
                    count=line.present_days
                )
            )
        elif line.basis is Basis.QUARTER_HOURS:
            parts.append(
                ngettext(
                    "{quarters} quarter-hour over {count} day",
                    "{quarters} quarter-hours over {count} days",
                    line.days,
                ).format(quarters=line.quantity, count=line.days)
            )
        if line.basis is not Basis.BOOKED and line.absent_billed:
            parts.append(
                ngettext(
                    "{count} billed absence", "{count} billed absences", line.absent_billed
                ).format(count=line.absent_billed)
            )
    return f"{line.label} ({', '.join(parts)})" if parts else line.label


def _local_time(moment: dt.datetime | None, day: dt.date) -> dt.time | None:
    """The wall-clock time of a mark on its day (None: not that day, e.g. ticked afterwards)."""
    if moment is None:
        return None
    local = moment.astimezone(PARIS)
    return local.time().replace(second=0, microsecond=0) if local.date() == day else None


async def issue_for_families(
    uow: UnitOfWork,
    structure: Structure,
    period: BillingPeriod,
    family_ids: Collection[int],
    *,
    today: dt.date,
    now: dt.datetime,
) -> IssueResult:
    """What `/facturer` does for a month, for these families only, in the caller's transaction
    (the demo issues its families' past months this way: lines, due date and numbers as issued)."""
    return await _issue_invoices(
        uow, structure, period, today=today, now=now, family_ids=frozenset(family_ids)
    )


async def _issue_invoices(
    uow: UnitOfWork,
    structure: Structure,
    period: BillingPeriod,
    *,
    today: dt.date,
    now: dt.datetime,
    family_ids: frozenset[int] | None = None,
) -> IssueResult:
    if period.end >= today:
        return IssueResult(IssueOutcome.MONTH_NOT_OVER, period)
    inputs = await _billing_inputs(uow, structure, period)
    repo = uow.repos.accounts
    issued: list[IssuedInvoice] = []
    already = undecided = notices = 0
    for family_id in sorted(inputs.by_family):
        if family_ids is not None and family_id not in family_ids:
            continue
        family = await uow.repos.families.get(family_id)
        if family is None:
            continue
        try:
            drafts = compute_invoices(
                inputs.by_family[family_id],
                period=period,
                services=inputs.billable,
                children=inputs.names,
                quotient=family.quotient_familial,
                regime=family.regime,
                runs=inputs.runs,
            )
        except MissingTariffError as exc:
            raise MissingTariff(str(exc.args[0])) from exc
        for draft in drafts:
            regie = inputs.regies[draft.regie]
            if draft.total <= 0:
                continue
            if await repo.invoice_exists(family_id, regie.id, period.start):
                already += 1
                continue
            invoice = await _add_invoice(
                uow, structure, period, draft, regie, family_id, today, inputs.service_ids
            )
            undecided += sum(line.undecided_absences for line in draft.lines)
            issued.append(IssuedInvoice(invoice.id, invoice.number, family_id, invoice.total))
            notices += await _queue_invoice_notices(uow, family_id, invoice.id, now)
    return IssueResult(IssueOutcome.ISSUED, period, tuple(issued), already, undecided, notices)


async def _add_invoice(
    uow: UnitOfWork,
    structure: Structure,
    period: BillingPeriod,
    draft: InvoiceDraft,
    regie: Regie,
    family_id: int,
    today: dt.date,
    service_ids: dict[str, int],
) -> Invoice:
    number = f"{regie.invoice_prefix}-{await uow.repos.accounts.next_invoice_number(regie.id)}"
    invoice = Invoice(
        number=number,
        family_id=family_id,
        regie_id=regie.id,
        period_start=period.start,
        period_end=period.end,
        issued_on=today,
        due_on=today + dt.timedelta(days=structure.billing.due_days),
        total=draft.total,
        lines=[
            InvoiceLine(
                child_id=line.child_id,
                service_id=service_ids.get(line.service_code),
                label=line_label(line)[:200],
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
            )
            for line in draft.lines
        ],
    )
    uow.repos.accounts.add(invoice)
    await uow.session.flush()
    return invoice


async def _queue_invoice_notices(
    uow: UnitOfWork, family_id: int, invoice_id: int, now: dt.datetime
) -> int:
    """One "new invoice" message per linked account of the family; returns how many."""
    recipients = await uow.repos.telegram.recipients_of_family(family_id)
    await queue_many(
        uow,
        [
            NewMessage(
                audience=ACCOUNT,
                chat_id=user_id,
                template=TEMPLATE_INVOICE_ISSUED,
                params={"invoice_id": invoice_id, "account": user_id},
                language=language,
                priority=int(Priority.BROADCAST),
                available_at=now,
                family_id=family_id,
            )
            for user_id, language in recipients
        ],
    )
    return len(recipients)


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
            action=ACTION_DOCUMENT,
            outcome="refused",
            actor_telegram_id=actor_telegram_id,
            actor_kind="parent",
            family_id=family_id,
            target=f"invoice:{invoice_id}",
            at=now,
        )
        return None
    family = await uow.repos.families.get(family_id)
    assert family is not None
    paid = await _paid_on(uow, family_id, invoice.id)
    name, address = family_heading(family)
    return InvoiceDocument(
        invoice_id=invoice.id,
        number=invoice.number,
        regie=invoice.regie.name,
        family_number=family.number,
        family_name=name,
        address_lines=address,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        lines=tuple(
            DocumentLine(line.label, line.quantity, line.unit_price, line.amount)
            for line in invoice.lines
        ),
        total=invoice.total,
        paid=paid,
    )


async def _paid_on(uow: UnitOfWork, family_id: int, invoice_id: int) -> Decimal:
    """What was paid on an invoice: its total less what `amounts_due` says remains."""
    invoices = [invoice_facts(i) for i in await uow.repos.accounts.invoices_of_family(family_id)]
    payments = [payment_facts(p) for p in await uow.repos.accounts.payments_of_family(family_id)]
    total = next(
        (invoice.total for invoice in invoices if invoice.id == invoice_id), Decimal("0.00")
    )
    return total - amounts_due(invoices, payments).get(invoice_id, total)


def family_heading(family: Family) -> tuple[str, tuple[str, ...]]:
    """The responsable's name ("Monsieur DUPONT JEAN") and postal address lines."""
    guardian = family.guardian(GuardianRole.RESPONSABLE)
    if guardian is None:
        return "", ()
    name = " ".join(
        part for part in (guardian.civility, guardian.last_name, guardian.first_name) if part
    )
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
    """ "Tarifs en cours": the family's quotient familial, régime and unit prices."""

    quotient: Decimal | None
    regime: Regime | None
    items: tuple[TariffItem, ...]


async def family_tariffs(uow: UnitOfWork, structure: Structure, family_id: int) -> FamilyTariffs:
    """The prices the family pays for each billed service of the structure."""
    family = await uow.repos.families.get(family_id)
    quotient = family.quotient_familial if family else None
    regime = family.regime if family else None
    items = tuple(
        TariffItem(
            service.name, service.tariff.unit, service.tariff.price_for(quotient, regime).price
        )
        for service in structure.services
        if service.tariff is not None
    )
    return FamilyTariffs(quotient, regime, items)
