"""A family's account: what its payments paid, the relevé de compte, the attestation de garde.

* :func:`allocate_payments` says which invoice each règlement paid. A payment given for an
  invoice pays it first; whatever is left (a payment for no invoice, or more than was due)
  pays the oldest unpaid invoices; what still remains is a credit on the account.
* :func:`amounts_due` is the one answer to "what is still due on each invoice?", built on that
  allocation: the account's screens, staff's /paiement, online payment and the "invoice due"
  reminders all ask it.
* :func:`build_statement` is the seed's "Relevé de compte" for one school year (1 September to
  31 August): the operations of the year, newest first, the ancien solde (everything before
  the year), the totals of débit and crédit, and the solde.
* :func:`childcare_paid` is what the attestation de frais de garde states: the amounts paid in
  a calendar year for the childcare of each child under 7 on 31 December of that year (born
  on or after 1 January six years before), the share of each payment that paid those lines.
* :func:`parse_payment_method` reads the words staff type ("chèque", "espèces", "CESU"…).

Pure: amounts are exact decimals, no I/O, no clock.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final

from bot.domain.billing import money
from bot.domain.model import PaymentMethod

__all__ = [
    "AccountStatement",
    "Allocation",
    "InvoiceFacts",
    "Operation",
    "OperationKind",
    "PaymentFacts",
    "SchoolYear",
    "allocate_payments",
    "amounts_due",
    "build_statement",
    "childcare_paid",
    "is_under_seven",
    "paid_by_invoice",
    "parse_amount",
    "parse_payment_method",
]

ZERO: Final = Decimal("0.00")


# --- facts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceFacts:
    """What the account needs of an invoice."""

    id: int
    number: str
    regie: str
    issued_on: date
    due_on: date
    period_start: date
    period_end: date
    total: Decimal


@dataclass(frozen=True)
class PaymentFacts:
    """What the account needs of a payment (règlement)."""

    id: int
    number: str
    regie: str
    paid_on: date
    method: PaymentMethod
    amount: Decimal
    invoice_id: int | None = None


# --- allocation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Allocation:
    """Part of a payment that paid an invoice."""

    payment_id: int
    invoice_id: int
    amount: Decimal


def allocate_payments(
    invoices: Sequence[InvoiceFacts], payments: Sequence[PaymentFacts]
) -> tuple[Allocation, ...]:
    """Which invoice each payment paid (see the module's docstring); credits are left out.

    Invoices are taken oldest first (due date, then id), payments in date order.
    """
    ordered_invoices = sorted(invoices, key=lambda i: (i.due_on, i.issued_on, i.id))
    ordered_payments = sorted(payments, key=lambda p: (p.paid_on, p.id))
    remaining = {invoice.id: invoice.total for invoice in ordered_invoices}
    allocations: list[Allocation] = []
    leftover: dict[int, Decimal] = {}
    for payment in ordered_payments:
        left = payment.amount
        if payment.invoice_id in remaining and left > 0:
            take = min(left, remaining[payment.invoice_id])
            if take > 0:
                allocations.append(Allocation(payment.id, payment.invoice_id, take))
                remaining[payment.invoice_id] -= take
                left -= take
        leftover[payment.id] = left
    for payment in ordered_payments:
        for invoice in ordered_invoices:
            left = leftover[payment.id]
            if left <= 0:
                break
            take = min(left, remaining[invoice.id])
            if take > 0:
                allocations.append(Allocation(payment.id, invoice.id, take))
                remaining[invoice.id] -= take
                leftover[payment.id] = left - take
    return tuple(allocations)


def paid_by_invoice(allocations: Iterable[Allocation]) -> dict[int, Decimal]:
    """How much was paid on each invoice."""
    paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for allocation in allocations:
        paid[allocation.invoice_id] += allocation.amount
    return dict(paid)


def amounts_due(
    invoices: Sequence[InvoiceFacts], payments: Sequence[PaymentFacts]
) -> dict[int, Decimal]:
    """What remains to pay on each of a family's invoices (0.00 once paid), by invoice id.

    Give every invoice and every payment of the family: a payment recorded for no invoice,
    or for more than its invoice asked, pays the oldest unpaid ones (:func:`allocate_payments`).
    """
    paid = paid_by_invoice(allocate_payments(invoices, payments))
    return {
        invoice.id: max(invoice.total - paid.get(invoice.id, ZERO), ZERO) for invoice in invoices
    }


def balance(invoices: Iterable[InvoiceFacts], payments: Iterable[PaymentFacts]) -> Decimal:
    """What the family owes: invoiced minus paid (negative when in credit)."""
    invoiced = sum((invoice.total for invoice in invoices), ZERO)
    paid = sum((payment.amount for payment in payments), ZERO)
    return (invoiced - paid).quantize(Decimal("0.01"))


# --- relevé de compte ----------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class SchoolYear:
    """A school year, from 1 September to 31 August ("2026-2027")."""

    start_year: int

    @classmethod
    def of(cls, day: date) -> SchoolYear:
        """The school year a day belongs to."""
        return cls(day.year if day.month >= 9 else day.year - 1)

    @property
    def start(self) -> date:
        """1 September."""
        return date(self.start_year, 9, 1)

    @property
    def end(self) -> date:
        """31 August of the next year."""
        return date(self.start_year + 1, 8, 31)

    @property
    def label(self) -> str:
        """ "2026-2027"."""
        return f"{self.start_year}-{self.start_year + 1}"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def previous(self) -> SchoolYear:
        """The year before."""
        return SchoolYear(self.start_year - 1)

    def next(self) -> SchoolYear:
        """The year after."""
        return SchoolYear(self.start_year + 1)


class OperationKind(StrEnum):
    """A line of the relevé des opérations."""

    INVOICE = "invoice"
    PAYMENT = "payment"


@dataclass(frozen=True)
class Operation:
    """A facture (débit) or a règlement (crédit) of the relevé."""

    kind: OperationKind
    id: int
    number: str
    day: date
    regie: str
    debit: Decimal | None
    credit: Decimal | None
    period_start: date | None = None
    period_end: date | None = None
    method: PaymentMethod | None = None


@dataclass(frozen=True)
class AccountStatement:
    """The relevé de compte of one school year."""

    year: SchoolYear
    previous_balance: Decimal
    operations: tuple[Operation, ...]
    has_earlier_operations: bool

    @property
    def total_debit(self) -> Decimal:
        """Sum of the year's invoices."""
        return sum((op.debit or ZERO for op in self.operations), ZERO)

    @property
    def total_credit(self) -> Decimal:
        """Sum of the year's payments."""
        return sum((op.credit or ZERO for op in self.operations), ZERO)

    @property
    def balance(self) -> Decimal:
        """Solde: ancien solde + débit - crédit (negative when in credit)."""
        return self.previous_balance + self.total_debit - self.total_credit

    @property
    def invoices(self) -> tuple[Operation, ...]:
        """The year's invoices ("Mes factures")."""
        return tuple(op for op in self.operations if op.kind is OperationKind.INVOICE)

    @property
    def payments(self) -> tuple[Operation, ...]:
        """The year's payments ("Mes règlements")."""
        return tuple(op for op in self.operations if op.kind is OperationKind.PAYMENT)


def build_statement(
    year: SchoolYear, invoices: Iterable[InvoiceFacts], payments: Iterable[PaymentFacts]
) -> AccountStatement:
    """The relevé of ``year`` from all of a family's invoices and payments."""
    operations: list[Operation] = []
    previous = ZERO
    earlier = False
    for invoice in invoices:
        if invoice.issued_on < year.start:
            previous += invoice.total
            earlier = True
        elif invoice.issued_on in year:
            operations.append(
                Operation(
                    OperationKind.INVOICE,
                    invoice.id,
                    invoice.number,
                    invoice.issued_on,
                    invoice.regie,
                    debit=invoice.total,
                    credit=None,
                    period_start=invoice.period_start,
                    period_end=invoice.period_end,
                )
            )
    for payment in payments:
        if payment.paid_on < year.start:
            previous -= payment.amount
            earlier = True
        elif payment.paid_on in year:
            operations.append(
                Operation(
                    OperationKind.PAYMENT,
                    payment.id,
                    payment.number,
                    payment.paid_on,
                    payment.regie,
                    debit=None,
                    credit=payment.amount,
                    method=payment.method,
                )
            )
    operations.sort(key=lambda op: (op.day, op.kind is OperationKind.PAYMENT, op.id), reverse=True)
    return AccountStatement(year, previous, tuple(operations), earlier)


# --- attestation de frais de garde ---------------------------------------------------------


def is_under_seven(birth_date: date | None, year: int) -> bool:
    """Under 7 on 31 December of ``year`` (the tax rule: under 6 on 1 January), i.e. born on
    or after 1 January of ``year - 6``."""
    return birth_date is not None and birth_date >= date(year - 6, 1, 1)


@dataclass(frozen=True)
class ChildcareLine:
    """The part of an invoice that is the childcare of a child."""

    invoice_id: int
    child_id: int
    amount: Decimal


def childcare_paid(
    year: int,
    invoices: Sequence[InvoiceFacts],
    payments: Sequence[PaymentFacts],
    childcare_lines: Iterable[ChildcareLine],
    birth_dates: Mapping[int, date | None],
) -> dict[int, Decimal]:
    """Per child under 7, the amount paid in ``year`` for their childcare.

    Each payment made in ``year`` counts for the invoices it paid (:func:`allocate_payments`),
    in proportion of the childcare lines of the child in each invoice's total.
    """
    totals = {invoice.id: invoice.total for invoice in invoices}
    shares: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for line in childcare_lines:
        if is_under_seven(birth_dates.get(line.child_id), year):
            shares[line.invoice_id][line.child_id] += line.amount
    paid_in_year = {payment.id for payment in payments if payment.paid_on.year == year}
    result: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for allocation in allocate_payments(invoices, payments):
        if allocation.payment_id not in paid_in_year or not totals.get(allocation.invoice_id):
            continue
        for child_id, amount in shares.get(allocation.invoice_id, {}).items():
            result[child_id] += allocation.amount * amount / totals[allocation.invoice_id]
    return {child_id: money(amount) for child_id, amount in result.items() if money(amount) > 0}


# --- what staff type -----------------------------------------------------------------------

_METHOD_WORDS: Final[Mapping[str, PaymentMethod]] = {
    "cheque": PaymentMethod.CHEQUE,
    "chq": PaymentMethod.CHEQUE,
    "especes": PaymentMethod.CASH,
    "espece": PaymentMethod.CASH,
    "liquide": PaymentMethod.CASH,
    "cesu": PaymentMethod.CESU,
    "prelevement": PaymentMethod.DIRECT_DEBIT,
    "carte": PaymentMethod.CARD,
    "cb": PaymentMethod.CARD,
    "titre": PaymentMethod.TITRE,
    "titre emis": PaymentMethod.TITRE,
    "titreemis": PaymentMethod.TITRE,
}


PAYMENT_METHOD_WORDS: Final[tuple[str, ...]] = (
    "chèque",
    "espèces",
    "CESU",
    "prélèvement",
    "carte",
    "titre émis",
)
"""How staff write each method in /paiement (French words, whatever the language)."""


def _plain(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.strip().lower())
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(without_accents.replace("-", " ").replace("_", " ").split())


def parse_payment_method(words: str) -> PaymentMethod | None:
    """The method named by staff ("chèque", "Especes", "CESU", "titre émis"…), or None."""
    plain = _plain(words)
    return _METHOD_WORDS.get(plain) or _METHOD_WORDS.get(plain.replace(" ", ""))


def parse_amount(text: str) -> Decimal | None:
    """A positive amount typed by staff ("120,60", "120.60", "45"), or None."""
    cleaned = (
        text.strip().replace("€", "").replace("\u202f", "").replace("\xa0", "").replace(",", ".")
    )
    if (
        not any(c.isdigit() for c in cleaned)
        or not all(c.isdigit() or c == "." for c in cleaned)
        or cleaned.count(".") > 1
    ):
        return None
    amount = Decimal(cleaned)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1000000"):
        return None
    return amount.quantize(Decimal("0.01"))


class PaymentWarning(StrEnum):
    """Why a payment staff type must be confirmed before it is recorded."""

    ALREADY_PAID = "already_paid"
    EXCEEDS_DUE = "exceeds_due"


def payment_warning(
    amount: Decimal, *, invoice_due: Decimal | None, family_due: Decimal
) -> PaymentWarning | None:
    """A payment on an invoice already paid, or for more than is due (on the invoice named, or on
    the whole account when none is): staff confirm it first. Dues come from `amounts_due`."""
    if invoice_due is not None:
        if invoice_due <= ZERO:
            return PaymentWarning.ALREADY_PAID
        return PaymentWarning.EXCEEDS_DUE if amount > invoice_due else None
    return PaymentWarning.EXCEEDS_DUE if amount > family_due else None
