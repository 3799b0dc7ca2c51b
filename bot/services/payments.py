"""Payments (règlements): recorded by staff, or made online with Telegram Payments.

A payment takes the next number of its régie (one atomic UPDATE, never reused). What remains
due on an invoice is `bot.domain.account.amounts_due` (the one answer the whole bot uses), so
the balance and each invoice's paid status follow at once. Both ways are idempotent: a staff
command carries the reference of the Telegram message that asked for it, an online payment
its unique Telegram charge id, so an update delivered twice records one payment.

`record_payment` (staff's /paiement) owns its transaction and audits itself; the online
payment functions take a unit of work (the parent's use cases are in `bot.services.statement`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy.exc import IntegrityError

from bot.domain.account import PaymentWarning, amounts_due, payment_warning
from bot.domain.model import GuardianRole, PaymentMethod
from bot.services.home import display_name
from bot.services.staff_audit import audit_staff
from bot.services.use_case import use_case
from storage.db import Database, UnitOfWork
from storage.models import Invoice, Payment, Regie
from storage.repositories import invoice_facts, payment_facts

ACTION_RECORD = "payment.record"
ACTION_CANCEL = "payment.cancel"
ACTION_ONLINE = "payment.online"
CURRENCY = "EUR"
PAYLOAD_PREFIX = "invoice:"

__all__ = [
    "ACTION_CANCEL",
    "ACTION_ONLINE",
    "ACTION_RECORD",
    "CURRENCY",
    "CancelOutcome",
    "CancelResult",
    "OnlineCheck",
    "OnlineOutcome",
    "PaymentOutcome",
    "PaymentResult",
    "cancel_payment",
    "check_online_payment",
    "invoice_due",
    "payload_for",
    "record_online_payment",
    "record_payment",
    "validate_pre_checkout",
]


class PaymentOutcome(StrEnum):
    """What became of a staff payment command."""

    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    UNKNOWN_FAMILY = "unknown_family"
    UNKNOWN_INVOICE = "unknown_invoice"
    NEEDS_CONFIRMATION = "needs_confirmation"
    """Nothing recorded: the invoice is already paid or the amount exceeds what is due."""


@dataclass(frozen=True)
class PaymentResult:
    """A recorded payment, with the account as it now stands."""

    outcome: PaymentOutcome
    number: str | None = None
    family_number: str | None = None
    family_name: str | None = None
    amount: Decimal | None = None
    method: PaymentMethod | None = None
    invoice_number: str | None = None
    invoice_due: Decimal | None = None
    balance: Decimal | None = None
    family_id: int | None = None
    warning: PaymentWarning | None = None
    due: Decimal | None = None
    """With a warning: what is due (on the invoice named, else on the whole account)."""


async def record_payment(
    db: Database,
    *,
    family_number: str,
    amount: Decimal,
    method: PaymentMethod,
    invoice_number: str | None,
    paid_on: dt.date,
    staff_id: int,
    reference: str,
    now: dt.datetime,
    confirmed: bool = False,
) -> PaymentResult:
    """`/paiement`: record a payment staff received; the same `reference` twice records it once.

    On an invoice already paid, or above what is due, nothing is recorded unless `confirmed`
    (NEEDS_CONFIRMATION, with the warning and what is due). Audited with its outcome (a payment
    for an unknown family or invoice is refused; one awaiting confirmation is "pending").
    """
    async with use_case(db) as uow:
        result = await _record_payment(
            uow,
            family_number=family_number,
            amount=amount,
            method=method,
            invoice_number=invoice_number,
            paid_on=paid_on,
            staff_id=staff_id,
            reference=reference,
            confirmed=confirmed,
        )
        outcome = {PaymentOutcome.RECORDED: "ok", PaymentOutcome.NEEDS_CONFIRMATION: "pending"}.get(
            result.outcome, "refused"
        )
        audit_staff(
            uow,
            staff_id,
            ACTION_RECORD,
            now=now,
            outcome=outcome,
            family_id=result.family_id,
            target=f"payment:{result.number}" if result.number else None,
            details={"method": method.value, "amount": str(amount), "result": result.outcome.value},
        )
        return result


async def _record_payment(
    uow: UnitOfWork,
    *,
    family_number: str,
    amount: Decimal,
    method: PaymentMethod,
    invoice_number: str | None,
    paid_on: dt.date,
    staff_id: int,
    reference: str,
    confirmed: bool = False,
) -> PaymentResult:
    existing = await uow.repos.accounts.payment_by_reference(reference)
    if existing is not None:
        return PaymentResult(
            PaymentOutcome.DUPLICATE, number=existing.number, family_id=existing.family_id
        )
    family = await uow.repos.families.get_by_number(family_number.replace(" ", ""))
    if family is None:
        return PaymentResult(PaymentOutcome.UNKNOWN_FAMILY)
    invoice: Invoice | None = None
    if invoice_number:
        invoice = await uow.repos.accounts.invoice_by_number(invoice_number)
        if invoice is None or invoice.family_id != family.id:
            return PaymentResult(
                PaymentOutcome.UNKNOWN_INVOICE, family_number=family.number, family_id=family.id
            )
    if not confirmed:
        dues = await _dues(uow, family.id)
        due = (
            dues.get(invoice.id, Decimal("0.00"))
            if invoice
            else sum(dues.values(), Decimal("0.00"))
        )
        warning = payment_warning(amount, invoice_due=due if invoice else None, family_due=due)
        if warning is not None:
            return PaymentResult(
                PaymentOutcome.NEEDS_CONFIRMATION,
                family_number=family.number,
                family_name=display_name(family.guardian(GuardianRole.RESPONSABLE)),
                amount=amount,
                method=method,
                invoice_number=invoice.number if invoice else None,
                family_id=family.id,
                warning=warning,
                due=due,
            )
    regie = await _regie_for(uow, family.id, invoice)
    payment = await _add_payment(
        uow,
        regie=regie,
        family_id=family.id,
        invoice_id=invoice.id if invoice else None,
        paid_on=paid_on,
        method=method,
        amount=amount,
        reference=reference,
        recorded_by=staff_id,
    )
    remaining = await invoice_due(uow, family.id, invoice.id) if invoice else None
    return PaymentResult(
        PaymentOutcome.RECORDED,
        number=payment.number,
        family_number=family.number,
        family_name=display_name(family.guardian(GuardianRole.RESPONSABLE)),
        amount=amount,
        method=method,
        invoice_number=invoice.number if invoice else None,
        invoice_due=remaining,
        balance=await uow.repos.accounts.balance(family.id),
        family_id=family.id,
    )


async def invoice_due(uow: UnitOfWork, family_id: int, invoice_id: int) -> Decimal:
    """What remains to pay on an invoice of the family (`bot.domain.account.amounts_due`)."""
    return (await _dues(uow, family_id)).get(invoice_id, Decimal("0.00"))


async def _dues(uow: UnitOfWork, family_id: int) -> dict[int, Decimal]:
    invoices = [invoice_facts(i) for i in await uow.repos.accounts.invoices_of_family(family_id)]
    payments = [payment_facts(p) for p in await uow.repos.accounts.payments_of_family(family_id)]
    return amounts_due(invoices, payments)


class CancelOutcome(StrEnum):
    """What became of `/annuler_paiement`."""

    CANCELLED = "cancelled"
    UNKNOWN_PAYMENT = "unknown_payment"
    ONLINE_PAYMENT = "online_payment"


@dataclass(frozen=True)
class CancelResult:
    """A payment staff cancelled (deleted: the audit row keeps what it was), and the balance after."""

    outcome: CancelOutcome
    number: str
    amount: Decimal | None = None
    method: PaymentMethod | None = None
    family_number: str | None = None
    invoice_number: str | None = None
    balance: Decimal | None = None


async def cancel_payment(
    db: Database, number: str, *, staff_id: int, now: dt.datetime
) -> CancelResult:
    """`/annuler_paiement`: remove a payment recorded by mistake; audited with what it was.

    A payment made online (Telegram Payments) is refused: the money was taken, it is refunded
    through the provider, not erased here.
    """
    async with use_case(db) as uow:
        payment = await uow.repos.accounts.payment_by_number(number)
        if payment is None or payment.telegram_charge_id is not None:
            outcome = (
                CancelOutcome.UNKNOWN_PAYMENT if payment is None else CancelOutcome.ONLINE_PAYMENT
            )
            audit_staff(
                uow,
                staff_id,
                ACTION_CANCEL,
                now=now,
                outcome="refused",
                target=f"payment:{number[:40]}",
                family_id=payment.family_id if payment else None,
                details={"result": outcome.value},
            )
            return CancelResult(outcome, number)
        family = await uow.repos.families.get(payment.family_id)
        invoice = (
            await uow.repos.accounts.get_invoice(payment.invoice_id) if payment.invoice_id else None
        )
        result = CancelResult(
            CancelOutcome.CANCELLED,
            payment.number,
            payment.amount,
            payment.method,
            family.number if family else None,
            invoice.number if invoice else None,
        )
        details = {
            "amount": str(payment.amount),
            "method": payment.method.value,
            "paid_on": payment.paid_on.isoformat(),
            "invoice": result.invoice_number or "",
            "reference": payment.reference or "",
            "recorded_by": payment.recorded_by,
        }
        family_id = payment.family_id
        await uow.session.delete(payment)
        await uow.session.flush()
        audit_staff(
            uow,
            staff_id,
            ACTION_CANCEL,
            now=now,
            family_id=family_id,
            target=f"payment:{result.number}",
            details=details,
        )
        return CancelResult(
            **{**result.__dict__, "balance": await uow.repos.accounts.balance(family_id)}
        )


async def _regie_for(uow: UnitOfWork, family_id: int, invoice: Invoice | None) -> Regie:
    regies = {regie.id: regie for regie in await uow.repos.accounts.regies_for_update()}
    if invoice is not None:
        return regies[invoice.regie_id]
    unpaid = await uow.repos.accounts.unpaid_invoices(family_id)
    if unpaid:
        return regies[unpaid[0].invoice.regie_id]
    return regies[min(regies)]


async def _add_payment(
    uow: UnitOfWork,
    *,
    regie: Regie,
    family_id: int,
    invoice_id: int | None,
    paid_on: dt.date,
    method: PaymentMethod,
    amount: Decimal,
    reference: str | None,
    recorded_by: int | None,
    charge_id: str | None = None,
) -> Payment:
    number = f"{regie.invoice_prefix}-{await uow.repos.accounts.next_payment_number(regie.id)}"
    payment = Payment(
        number=number,
        family_id=family_id,
        regie_id=regie.id,
        invoice_id=invoice_id,
        paid_on=paid_on,
        method=method,
        amount=amount,
        reference=reference,
        recorded_by=recorded_by,
        telegram_charge_id=charge_id,
    )
    uow.repos.accounts.add(payment)
    await uow.session.flush()
    return payment


# --- online payment (Telegram Payments) ----------------------------------------------------


class OnlineOutcome(StrEnum):
    """Whether an invoice can be paid online now, or what became of a payment."""

    OK = "ok"
    NOT_YOURS = "not_yours"
    ALREADY_PAID = "already_paid"
    AMOUNT_CHANGED = "amount_changed"
    RECORDED = "recorded"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class OnlineCheck:
    """An invoice the family may pay online now, with the amount due."""

    outcome: OnlineOutcome
    invoice_id: int | None = None
    number: str | None = None
    amount: Decimal | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    payment_number: str | None = None


def payload_for(invoice_id: int) -> str:
    """The private payload of a Telegram invoice."""
    return f"{PAYLOAD_PREFIX}{invoice_id}"


def _invoice_id_of(payload: str) -> int | None:
    if not payload.startswith(PAYLOAD_PREFIX):
        return None
    rest = payload[len(PAYLOAD_PREFIX) :]
    return int(rest) if rest.isdigit() and len(rest) <= 12 else None


def to_cents(amount: Decimal) -> int:
    """An amount in the smallest unit of the currency, as Telegram wants it."""
    return int((amount * 100).to_integral_value())


def cents_to_amount(total_amount: int) -> Decimal:
    """Telegram's amount in cents as euros."""
    return (Decimal(total_amount) / 100).quantize(Decimal("0.01"))


async def check_online_payment(
    uow: UnitOfWork,
    family_id: int | None,
    invoice_id: int,
    *,
    actor_telegram_id: int,
    now: dt.datetime,
) -> OnlineCheck:
    """Whether the family may pay this invoice now, and how much; a forged id is audited."""
    invoice = await uow.repos.accounts.get_invoice(invoice_id)
    if invoice is None or family_id is None or invoice.family_id != family_id:
        uow.repos.audit.record(
            action=ACTION_ONLINE,
            outcome="refused",
            actor_telegram_id=actor_telegram_id,
            actor_kind="parent",
            family_id=family_id,
            target=f"invoice:{invoice_id}",
            at=now,
        )
        return OnlineCheck(OnlineOutcome.NOT_YOURS)
    due = await invoice_due(uow, family_id, invoice.id)
    outcome = OnlineOutcome.OK if due > 0 else OnlineOutcome.ALREADY_PAID
    return OnlineCheck(
        outcome, invoice.id, invoice.number, due, invoice.period_start, invoice.period_end
    )


async def validate_pre_checkout(
    uow: UnitOfWork,
    *,
    user_id: int,
    payload: str,
    currency: str,
    total_amount: int,
    now: dt.datetime,
) -> OnlineCheck:
    """Telegram asks before charging: the invoice is the payer's family's and still due that much."""
    invoice_id = _invoice_id_of(payload)
    link = await uow.repos.telegram.active_link(user_id)
    check = await check_online_payment(
        uow, link.family_id if link else None, invoice_id or 0, actor_telegram_id=user_id, now=now
    )
    if check.outcome is not OnlineOutcome.OK:
        return check
    if currency != CURRENCY or check.amount is None or to_cents(check.amount) != total_amount:
        return OnlineCheck(
            OnlineOutcome.AMOUNT_CHANGED, check.invoice_id, check.number, check.amount
        )
    return check


async def record_online_payment(
    uow: UnitOfWork,
    *,
    user_id: int,
    payload: str,
    total_amount: int,
    charge_id: str,
    provider_charge_id: str,
    today: dt.date,
    now: dt.datetime,
) -> OnlineCheck:
    """Record a successful Telegram payment once; the same charge id again is a duplicate.

    The money was taken: it is recorded on the invoice's family even if the payer unlinked
    meanwhile.
    """
    existing = await uow.repos.accounts.payment_by_charge_id(charge_id)
    if existing is not None:
        return OnlineCheck(
            OnlineOutcome.DUPLICATE, existing.invoice_id, payment_number=existing.number
        )
    invoice_id = _invoice_id_of(payload)
    invoice = await uow.repos.accounts.get_invoice(invoice_id) if invoice_id else None
    if invoice is None:
        uow.repos.audit.record(
            action=ACTION_ONLINE,
            outcome="refused",
            actor_telegram_id=user_id,
            actor_kind="parent",
            target="payload",
            details={"charge": charge_id},
            at=now,
        )
        return OnlineCheck(OnlineOutcome.NOT_YOURS)
    regie = await _regie_for(uow, invoice.family_id, invoice)
    amount = cents_to_amount(total_amount)
    try:
        async with uow.session.begin_nested():
            payment = await _add_payment(
                uow,
                regie=regie,
                family_id=invoice.family_id,
                invoice_id=invoice.id,
                paid_on=today,
                method=PaymentMethod.ONLINE,
                amount=amount,
                reference=provider_charge_id[:120] or None,
                recorded_by=user_id,
                charge_id=charge_id,
            )
    except IntegrityError:
        existing = await uow.repos.accounts.payment_by_charge_id(charge_id)
        return OnlineCheck(
            OnlineOutcome.DUPLICATE,
            invoice.id,
            payment_number=existing.number if existing else None,
        )
    uow.repos.audit.record(
        action=ACTION_ONLINE,
        outcome="ok",
        actor_telegram_id=user_id,
        actor_kind="parent",
        family_id=invoice.family_id,
        target=f"payment:{payment.number}",
        details={"amount": str(amount)},
        at=now,
    )
    due = await invoice_due(uow, invoice.family_id, invoice.id)
    return OnlineCheck(
        OnlineOutcome.RECORDED,
        invoice.id,
        invoice.number,
        due,
        invoice.period_start,
        invoice.period_end,
        payment_number=payment.number,
    )
