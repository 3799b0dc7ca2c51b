"""The account: what payments paid, the relevé de compte's sums, the attestation de garde."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.account import (
    PAYMENT_METHOD_WORDS,
    ChildcareLine,
    InvoiceFacts,
    OperationKind,
    PaymentFacts,
    SchoolYear,
    allocate_payments,
    amounts_due,
    balance,
    build_statement,
    childcare_paid,
    is_under_seven,
    paid_by_invoice,
    parse_amount,
    parse_payment_method,
)
from bot.domain.model import PaymentMethod

D = Decimal
REGIE = "Régie garderie ALSH"


def invoice(
    id: int, number: str, issued: dt.date, total: str, months: tuple[dt.date, dt.date] | None = None
) -> InvoiceFacts:
    start, end = months or (issued.replace(day=1), issued)
    return InvoiceFacts(
        id, number, REGIE, issued, issued + dt.timedelta(days=25), start, end, D(total)
    )


def payment(
    id: int,
    number: str,
    paid: dt.date,
    amount: str,
    invoice_id: int | None = None,
    method: PaymentMethod = PaymentMethod.CHEQUE,
) -> PaymentFacts:
    return PaymentFacts(id, number, REGIE, paid, method, D(amount), invoice_id)


def test_the_seed_statement() -> None:
    """The seed's "Relevé des opérations": AL-12 and AL-36 invoiced, AL-228 paid AL-12."""
    day = dt.date(2015, 4, 8)
    invoices = [
        invoice(1, "AL-12", day, "243.20", (dt.date(2015, 2, 1), dt.date(2015, 3, 31))),
        invoice(2, "AL-36", day, "120.60", (dt.date(2015, 4, 1), dt.date(2015, 4, 30))),
    ]
    payments = [payment(1, "AL-228", day, "243.20", invoice_id=1)]
    statement = build_statement(SchoolYear(2014), invoices, payments)
    assert statement.year.label == "2014-2015"
    assert statement.previous_balance == D("0.00")
    assert statement.total_debit == D("363.80")
    assert statement.total_credit == D("243.20")
    assert statement.balance == D("120.60")
    assert {op.number for op in statement.invoices} == {"AL-12", "AL-36"}
    assert [op.number for op in statement.payments] == ["AL-228"]
    assert paid_by_invoice(allocate_payments(invoices, payments)) == {1: D("243.20")}


def test_earlier_years_make_the_previous_balance_and_later_ones_are_left_out() -> None:
    invoices = [
        invoice(1, "AL-1", dt.date(2025, 6, 5), "100.00"),  # 2024-2025
        invoice(2, "AL-2", dt.date(2025, 10, 5), "50.00"),  # 2025-2026
        invoice(3, "AL-3", dt.date(2026, 9, 5), "70.00"),  # 2026-2027
    ]
    payments = [
        payment(1, "AL-10", dt.date(2025, 8, 31), "60.00", 1),
        payment(2, "AL-11", dt.date(2025, 9, 1), "30.00", 1),
    ]
    statement = build_statement(SchoolYear(2025), invoices, payments)
    assert statement.previous_balance == D("40.00")
    assert statement.has_earlier_operations
    assert [(op.kind, op.number) for op in statement.operations] == [
        (OperationKind.INVOICE, "AL-2"),
        (OperationKind.PAYMENT, "AL-11"),
    ]
    assert (statement.total_debit, statement.total_credit, statement.balance) == (
        D("50.00"),
        D("30.00"),
        D("60.00"),
    )
    first = build_statement(SchoolYear(2024), invoices, payments)
    assert not first.has_earlier_operations and first.balance == D("40.00")


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (dt.date(2026, 9, 1), "2026-2027"),
        (dt.date(2026, 8, 31), "2025-2026"),
        (dt.date(2027, 1, 1), "2026-2027"),
    ],
)
def test_school_years_start_on_the_first_of_september(day: dt.date, label: str) -> None:
    assert SchoolYear.of(day).label == label


def test_a_payment_pays_its_invoice_then_the_oldest_ones() -> None:
    invoices = [
        invoice(1, "AL-1", dt.date(2026, 9, 5), "100.00"),
        invoice(2, "AL-2", dt.date(2026, 10, 5), "80.00"),
        invoice(3, "AL-3", dt.date(2026, 11, 5), "50.00"),
    ]
    payments = [
        payment(1, "P-1", dt.date(2026, 11, 10), "130.00", invoice_id=3),  # 80 more than AL-3 asked
        payment(2, "P-2", dt.date(2026, 11, 12), "40.00"),  # for no invoice
    ]
    paid = paid_by_invoice(allocate_payments(invoices, payments))
    assert paid == {3: D("50.00"), 1: D("100.00"), 2: D("20.00")}


@pytest.mark.parametrize(
    ("payments", "due"),
    [
        ([], {1: "100.00", 2: "80.00"}),
        (
            [payment(1, "P-1", dt.date(2026, 11, 1), "100.00")],
            {1: "0.00", 2: "80.00"},
        ),  # no invoice: the oldest
        (
            [payment(1, "P-1", dt.date(2026, 11, 1), "30.00", invoice_id=2)],
            {1: "100.00", 2: "50.00"},
        ),
        (
            [payment(1, "P-1", dt.date(2026, 11, 1), "130.00", invoice_id=2)],
            {1: "50.00", 2: "0.00"},
        ),  # beyond its invoice
        (
            [payment(1, "P-1", dt.date(2026, 11, 1), "500.00")],
            {1: "0.00", 2: "0.00"},
        ),  # the rest is a credit, not a negative due
    ],
)
def test_what_remains_due_on_each_invoice(
    payments: list[PaymentFacts], due: dict[int, str]
) -> None:
    invoices = [
        invoice(1, "AL-1", dt.date(2026, 9, 5), "100.00"),
        invoice(2, "AL-2", dt.date(2026, 10, 5), "80.00"),
    ]
    assert amounts_due(invoices, payments) == {
        invoice_id: D(amount) for invoice_id, amount in due.items()
    }


def test_what_nothing_asks_for_stays_a_credit() -> None:
    invoices = [invoice(1, "AL-1", dt.date(2026, 9, 5), "30.00")]
    payments = [payment(1, "P-1", dt.date(2026, 9, 10), "50.00")]
    allocations = allocate_payments(invoices, payments)
    assert sum(a.amount for a in allocations) == D("30.00")
    statement = build_statement(SchoolYear(2026), invoices, payments)
    assert statement.balance == D("-20.00")


@pytest.mark.parametrize(
    ("birth", "year", "eligible"),
    [
        (dt.date(2020, 1, 1), 2026, True),  # 6 on 1 January 2026: under 7 all year
        (dt.date(2019, 12, 31), 2026, False),  # 7 on 31 December 2026
        (dt.date(2025, 3, 1), 2026, True),
        (None, 2026, False),
    ],
)
def test_the_attestation_is_for_children_under_seven(
    birth: dt.date | None, year: int, eligible: bool
) -> None:
    assert is_under_seven(birth, year) is eligible


def test_the_attestation_counts_the_childcare_share_of_what_was_paid_that_year() -> None:
    lucas, emma = 1, 2
    invoices = [
        invoice(1, "AL-1", dt.date(2025, 12, 5), "100.00"),  # paid in January 2026
        invoice(2, "AL-2", dt.date(2026, 11, 5), "60.00"),  # paid half in 2026, half in 2027
    ]
    lines = [
        ChildcareLine(1, emma, D("40.00")),  # the other 60.00 are meals or LUCAS's (too old)
        ChildcareLine(1, lucas, D("30.00")),
        ChildcareLine(2, emma, D("60.00")),
    ]
    payments = [
        payment(1, "P-1", dt.date(2026, 1, 10), "100.00", 1),
        payment(2, "P-2", dt.date(2026, 12, 20), "30.00", 2),
        payment(3, "P-3", dt.date(2027, 1, 3), "30.00", 2),
    ]
    births = {lucas: dt.date(2017, 3, 14), emma: dt.date(2020, 9, 2)}
    assert childcare_paid(2026, invoices, payments, lines, births) == {emma: D("70.00")}
    assert (
        childcare_paid(2027, invoices, payments, lines, births) == {}
    )  # EMMA is 7 in September 2027
    younger = {lucas: births[lucas], emma: dt.date(2021, 2, 1)}
    assert childcare_paid(2027, invoices, payments, lines, younger) == {emma: D("30.00")}
    assert childcare_paid(2025, invoices, payments, lines, births) == {}


@pytest.mark.parametrize(
    ("words", "method"),
    [
        ("chèque", PaymentMethod.CHEQUE),
        ("Cheque", PaymentMethod.CHEQUE),
        ("espèces", PaymentMethod.CASH),
        ("ESPECES", PaymentMethod.CASH),
        ("CESU", PaymentMethod.CESU),
        ("prélèvement", PaymentMethod.DIRECT_DEBIT),
        ("carte", PaymentMethod.CARD),
        ("titre émis", PaymentMethod.TITRE),
        ("titre-emis", PaymentMethod.TITRE),
        ("virement", None),
        ("", None),
    ],
)
def test_payment_methods_as_staff_type_them(words: str, method: PaymentMethod | None) -> None:
    assert parse_payment_method(words) is method


def test_the_method_words_listed_to_staff_name_every_method_they_may_record() -> None:
    named = {parse_payment_method(word) for word in PAYMENT_METHOD_WORDS}
    assert named == set(PaymentMethod) - {PaymentMethod.ONLINE}


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("120,60", D("120.60")),
        ("120.60", D("120.60")),
        ("45", D("45.00")),
        ("45€", D("45.00")),
        ("0", None),
        ("-3", None),
        ("1,005", None),
        ("1.2.3", None),
        (".", None),
        ("douze", None),
        ("1e3", None),
    ],
)
def test_amounts_as_staff_type_them(text: str, amount: Decimal | None) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    ("amount", "invoice_due", "family_due", "expected"),
    [
        ("120.60", "120.60", "120.60", None),
        ("50.00", "120.60", "120.60", None),
        ("120.61", "120.60", "120.60", "exceeds_due"),
        ("10.00", "0.00", "0.00", "already_paid"),
        ("10.00", "0.00", "50.00", "already_paid"),  # another invoice is due, this one is paid
        ("10.00", None, "50.00", None),
        ("60.00", None, "50.00", "exceeds_due"),
        ("1.00", None, "0.00", "exceeds_due"),
    ],
)
def test_a_payment_on_a_paid_invoice_or_above_what_is_due_is_flagged(
    amount: str, invoice_due: str | None, family_due: str, expected: str | None
) -> None:
    from bot.domain.account import payment_warning

    warning = payment_warning(
        Decimal(amount),
        invoice_due=Decimal(invoice_due) if invoice_due else None,
        family_due=Decimal(family_due),
    )
    assert (warning.value if warning else None) == expected


DAY = dt.date(2026, 10, 5)


@pytest.mark.parametrize(
    ("totals", "amounts", "owed"),
    [
        ((), (), "0.00"),
        (("243.20",), (), "243.20"),
        (("243.20", "120.60"), ("243.20",), "120.60"),
        (("45.50",), ("45.50", "10.00"), "-10.00"),  # paid twice: a credit
        (("10.10", "20.20", "30.30"), ("0.60", "60.00"), "0.00"),
    ],
)
def test_the_balance_is_what_was_invoiced_minus_what_was_paid(
    totals: tuple[str, ...], amounts: tuple[str, ...], owed: str
) -> None:
    invoices = [invoice(i, f"F-{i}", DAY, total) for i, total in enumerate(totals, 1)]
    payments = [payment(i, f"R-{i}", DAY, amount) for i, amount in enumerate(amounts, 1)]
    assert balance(invoices, payments) == D(owed)
