"""Money use cases on both engines: issuing a month, numbering under concurrency, payments,
the relevé de compte, the attestation de garde.

The demo is loaded on Monday 23 November 2026: DUPONT already has AL-12 (September, paid by
AL-228) and AL-36 (October, unpaid); the régie's next numbers are 37 and 229.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.account import SchoolYear
from bot.domain.billing import BillingPeriod
from bot.domain.model import DayStatus, PaymentMethod
from bot.domain.reminders import ReminderKind
from bot.services.billing import TEMPLATE_INVOICE_ISSUED, IssueOutcome, MissingTariff
from bot.services.outbox import Priority
from bot.services.payments import (
    OnlineOutcome,
    PaymentOutcome,
    payload_for,
    record_online_payment,
    record_payment,
    validate_pre_checkout,
)
from bot.services.reminders import ReminderSettings, due_reminders
from bot.services.statement import account_statement, attestation_document
from bot.structure import Structure
from storage.db import Database
from tests.support.money import (
    DUPONT,
    MARTIN,
    NOW,
    PARIS,
    TODAY,
    add_days,
    family_and_children,
    issue,
    link_account,
)

D = Decimal


async def test_issuing_october_bills_what_was_consumed_once(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    # CHLOÉ MARTIN (QF 1250, MSA: the highest bracket): 3 meals, 2 mornings, 1 excused absence.
    await add_days(db, MARTIN, "CHLOÉ", "cantine", [1, 2, 5], DayStatus.PRESENT)
    await add_days(db, MARTIN, "CHLOÉ", "garderie_matin", [5, 6], DayStatus.RESERVED)
    await add_days(db, MARTIN, "CHLOÉ", "garderie_matin", [8], DayStatus.ABSENT_EXCUSED)
    # DUPONT consumed too (the demo's October), but October is already invoiced to them (AL-36).
    await link_account(db, MARTIN, 501, "fr")

    result = await issue(db, structure)

    assert result.outcome is IssueOutcome.ISSUED
    assert [i.number for i in result.issued] == ["AL-37"]
    assert result.already_issued == 1
    martin_id, _ = await family_and_children(db, MARTIN)
    async with db.unit_of_work() as uow:
        invoice = await uow.repos.accounts.get_invoice(result.issued[0].invoice_id)
        assert invoice is not None and invoice.family_id == martin_id
        assert (invoice.period_start, invoice.period_end) == (
            dt.date(2026, 10, 1),
            dt.date(2026, 10, 31),
        )
        assert (invoice.issued_on, invoice.due_on) == (TODAY, TODAY + dt.timedelta(days=25))
        assert [
            (line.label, line.quantity, line.unit_price, line.amount) for line in invoice.lines
        ] == [
            ("Garderie matin — CHLOÉ", D("2.00"), D("1.90"), D("3.80")),
            ("Restauration scolaire — CHLOÉ", D("3.00"), D("4.10"), D("12.30")),
        ]
        assert invoice.total == D("16.10")
        notices = await uow.repos.outbox.of_template(TEMPLATE_INVOICE_ISSUED)
        assert [(n.chat_id, n.params["invoice_id"], n.language, n.priority) for n in notices] == [
            (501, invoice.id, "fr", Priority.BROADCAST)
        ]
    assert result.notices == 1

    again = await issue(db, structure)
    assert again.issued == () and again.already_issued == 2 and again.notices == 0
    async with db.unit_of_work() as uow:
        assert len(await uow.repos.accounts.invoices_of_family(martin_id)) == 1
        assert (
            len(await uow.repos.outbox.of_template(TEMPLATE_INVOICE_ISSUED)) == 1
        )  # not notified twice
        regie = await uow.repos.structure.regie_by_code("AL")
        assert regie is not None and regie.next_invoice_number == 38
        audit = await uow.repos.audit.entries(action="invoices.issue")
        assert [e.details for e in audit] == [
            {"issued": 1, "already_issued": 1},
            {"issued": 0, "already_issued": 2},
        ]
        assert [(e.actor_telegram_id, e.actor_kind, e.outcome) for e in audit] == [
            (7, "staff", "ok")
        ] * 2


async def test_a_service_without_tariffs_issues_nothing_and_the_failure_is_audited(
    demo_database: Database, structure: Structure
) -> None:
    db = demo_database
    await add_days(db, MARTIN, "CHLOÉ", "cantine", [1, 2], DayStatus.PRESENT)
    await link_account(db, MARTIN, 501)
    cantine = next(s for s in structure.services if s.code == "cantine")
    without_prices = dataclasses.replace(
        structure,
        services=tuple(
            dataclasses.replace(s, tariff=None) if s is cantine else s for s in structure.services
        ),
    )
    with pytest.raises(MissingTariff):
        await issue(db, without_prices)
    async with db.unit_of_work() as uow:
        martin_id, _ = await family_and_children(db, MARTIN)
        assert await uow.repos.accounts.invoices_of_family(martin_id) == []
        assert await uow.repos.outbox.of_template(TEMPLATE_INVOICE_ISSUED) == []
        audit = await uow.repos.audit.entries(action="invoices.issue")
    assert [(e.outcome, e.details) for e in audit] == [("failed", {"missing_tariff": "cantine"})]


async def test_a_month_is_billed_only_once_over(
    any_demo_database: Database, structure: Structure
) -> None:
    await add_days(
        any_demo_database, MARTIN, "CHLOÉ", "cantine", [2], DayStatus.PRESENT, month=(2026, 11)
    )
    result = await issue(any_demo_database, structure, BillingPeriod.month(2026, 11))
    assert result.outcome is IssueOutcome.MONTH_NOT_OVER
    december = await issue(
        any_demo_database, structure, BillingPeriod.month(2026, 11), today=dt.date(2026, 12, 1)
    )
    assert [i.number for i in december.issued] == ["AL-37"]


async def test_invoice_numbers_are_unique_and_consecutive_under_concurrency(
    any_demo_database: Database,
) -> None:
    db = any_demo_database
    async with db.unit_of_work() as uow:
        regie_id = (await uow.repos.structure.regie_by_code("AL")).id  # type: ignore[union-attr]

    async def take(kind: str) -> int:
        async with db.unit_of_work() as uow:
            method = (
                uow.repos.accounts.next_invoice_number
                if kind == "invoice"
                else uow.repos.accounts.next_payment_number
            )
            number = await method(regie_id)
            await asyncio.sleep(0.01)  # hold the transaction open while the others wait
            await uow.commit()
            return number

    invoices, payments = await asyncio.gather(
        asyncio.gather(*(take("invoice") for _ in range(8))),
        asyncio.gather(*(take("payment") for _ in range(8))),
    )
    assert sorted(invoices) == list(range(37, 45))
    assert sorted(payments) == list(range(229, 237))


async def test_two_concurrent_runs_issue_each_invoice_once(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    await add_days(db, MARTIN, "CHLOÉ", "cantine", [1, 2, 5], DayStatus.PRESENT)
    # DUPONT's October (the demo's days) is already invoiced: AL-36.
    results = await asyncio.gather(*(issue(db, structure) for _ in range(3)))
    numbers = sorted(i.number for r in results for i in r.issued)
    assert numbers == ["AL-37"]
    assert sorted(r.already_issued for r in results) == [1, 2, 2]


async def test_staff_record_a_cheque_and_the_invoice_is_paid(any_demo_database: Database) -> None:
    db = any_demo_database
    dupont_id, _ = await family_and_children(db, DUPONT)
    result = await record_payment(
        db,
        family_number=DUPONT,
        amount=D("100.00"),
        method=PaymentMethod.CHEQUE,
        invoice_number="al-36",
        paid_on=TODAY,
        staff_id=7,
        reference="telegram:-100:5",
        now=NOW,
    )
    assert result.outcome is PaymentOutcome.RECORDED
    assert (result.number, result.invoice_number, result.invoice_due, result.balance) == (
        "AL-229",
        "AL-36",
        D("20.60"),
        D("20.60"),
    )
    again = await record_payment(
        db,
        family_number=DUPONT,
        amount=D("100.00"),
        method=PaymentMethod.CHEQUE,
        invoice_number="AL-36",
        paid_on=TODAY,
        staff_id=7,
        reference="telegram:-100:5",
        now=NOW,
    )
    rest = await record_payment(
        db,
        family_number="1001 0018 18331",
        amount=D("20.60"),
        method=PaymentMethod.CESU,
        invoice_number=None,
        paid_on=TODAY,
        staff_id=7,
        reference="telegram:-100:6",
        now=NOW,
    )
    assert again.outcome is PaymentOutcome.DUPLICATE and again.number == "AL-229"
    assert rest.number == "AL-230" and rest.balance == D("0.00")
    async with db.unit_of_work() as uow:
        assert await uow.repos.accounts.unpaid_invoices(dupont_id) == []
        assert len(await uow.repos.accounts.payments_of_family(dupont_id)) == 3
        audit = await uow.repos.audit.entries(action="payment.record")
    assert [(e.actor_telegram_id, e.actor_kind, e.outcome, e.target) for e in audit] == [
        (7, "staff", "ok", "payment:AL-229"),
        (7, "staff", "refused", "payment:AL-229"),
        (7, "staff", "ok", "payment:AL-230"),
    ]


async def test_a_payment_for_no_invoice_is_no_longer_reminded_as_due(
    any_demo_database: Database, structure: Structure
) -> None:
    """Regression: `/paiement N MONTANT MODE` (no invoice number) pays the oldest unpaid invoice,
    and the "invoice due" reminder agrees (it once summed only payments naming their invoice)."""
    db = any_demo_database
    await link_account(db, DUPONT, 101, "fr")
    before_due = dt.datetime(2026, 11, 27, 9, 0, tzinfo=PARIS)  # AL-36 is due on 30 November
    settings = ReminderSettings(kinds=frozenset({ReminderKind.INVOICE}))

    async def invoice_reminders() -> list[tuple[int, str]]:
        async with db.unit_of_work() as uow:
            found = await due_reminders(
                uow, structure, PARIS, before_due, admin_chat_id=None, settings=settings
            )
        return [(r.recipient, r.subject) for r in found]

    assert await invoice_reminders() == [(101, "AL-36")]
    paid = await record_payment(
        db,
        family_number=DUPONT,
        amount=D("120.60"),
        method=PaymentMethod.CHEQUE,
        invoice_number=None,
        paid_on=TODAY,
        staff_id=7,
        reference="telegram:-100:7",
        now=NOW,
    )
    assert paid.outcome is PaymentOutcome.RECORDED and paid.balance == D("0.00")
    assert await invoice_reminders() == []
    async with db.unit_of_work() as uow:
        dupont_id, _ = await family_and_children(db, DUPONT)
        assert await uow.repos.accounts.unpaid_invoices(dupont_id) == []


@pytest.mark.parametrize(
    ("number", "invoice", "outcome"),
    [
        ("999", None, PaymentOutcome.UNKNOWN_FAMILY),
        (MARTIN, "AL-36", PaymentOutcome.UNKNOWN_INVOICE),
        (DUPONT, "AL-99", PaymentOutcome.UNKNOWN_INVOICE),
    ],
)
async def test_a_payment_for_the_wrong_family_or_invoice_records_nothing(
    demo_database: Database, number: str, invoice: str | None, outcome: PaymentOutcome
) -> None:
    result = await record_payment(
        demo_database,
        family_number=number,
        amount=D("10"),
        method=PaymentMethod.CASH,
        invoice_number=invoice,
        paid_on=TODAY,
        staff_id=7,
        reference="telegram:-100:9",
        now=NOW,
    )
    assert result.outcome is outcome
    async with demo_database.unit_of_work() as uow:
        regie = await uow.repos.structure.regie_by_code("AL")
        assert regie is not None and regie.next_payment_number == 229
        audit = await uow.repos.audit.entries(action="payment.record")
    assert [(e.outcome, e.details["result"]) for e in audit] == [("refused", outcome.value)]


async def test_the_statement_of_the_school_year(any_demo_database: Database) -> None:
    dupont_id, _ = await family_and_children(any_demo_database, DUPONT)
    async with any_demo_database.unit_of_work() as uow:
        view = await account_statement(uow, dupont_id, SchoolYear(2026), today=TODAY)
        previous = await account_statement(uow, dupont_id, SchoolYear(2025), today=TODAY)
    statement = view.statement
    assert [op.number for op in statement.operations] == ["AL-36", "AL-228", "AL-12"]
    assert (
        statement.previous_balance,
        statement.total_debit,
        statement.total_credit,
        statement.balance,
    ) == (
        D("0.00"),
        D("363.80"),
        D("243.20"),
        D("120.60"),
    )
    assert view.due(statement.invoices[0].id, D("120.60")) == D("120.60")
    assert not view.has_later_year and not statement.has_earlier_operations
    assert previous.statement.operations == () and previous.has_later_year


async def test_online_payment_is_checked_then_recorded_once(any_demo_database: Database) -> None:
    db = any_demo_database
    await link_account(db, DUPONT, 101)
    await link_account(db, MARTIN, 201)
    dupont_id, _ = await family_and_children(db, DUPONT)
    async with db.unit_of_work() as uow:
        al36 = await uow.repos.accounts.invoice_by_number("AL-36")
        assert al36 is not None
        payload = payload_for(al36.id)
        stranger = await validate_pre_checkout(
            uow, user_id=201, payload=payload, currency="EUR", total_amount=12060, now=NOW
        )
        changed = await validate_pre_checkout(
            uow, user_id=101, payload=payload, currency="EUR", total_amount=100, now=NOW
        )
        ok = await validate_pre_checkout(
            uow, user_id=101, payload=payload, currency="EUR", total_amount=12060, now=NOW
        )
        await uow.commit()
    assert (stranger.outcome, changed.outcome, ok.outcome) == (
        OnlineOutcome.NOT_YOURS,
        OnlineOutcome.AMOUNT_CHANGED,
        OnlineOutcome.OK,
    )

    async def pay() -> OnlineOutcome:
        async with db.unit_of_work() as uow:
            result = await record_online_payment(
                uow,
                user_id=101,
                payload=payload,
                total_amount=12060,
                charge_id="tg-charge-1",
                provider_charge_id="prov-1",
                today=TODAY,
                now=NOW,
            )
            await uow.commit()
            return result.outcome

    assert await pay() is OnlineOutcome.RECORDED
    assert await pay() is OnlineOutcome.DUPLICATE
    async with db.unit_of_work() as uow:
        payments = await uow.repos.accounts.payments_of_family(dupont_id)
        assert [(p.number, p.method, p.amount) for p in payments][-1] == (
            "AL-229",
            PaymentMethod.ONLINE,
            D("120.60"),
        )
        assert len(payments) == 2
        assert await uow.repos.accounts.balance(dupont_id) == D("0.00")
        refused = await uow.repos.audit.entries(action="payment.online")
        assert next((e.outcome, e.actor_telegram_id) for e in refused) == ("refused", 201)


async def test_the_attestation_counts_childcare_paid_for_children_under_seven(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    # MARTIN's CHLOÉ was born in 2018: too old. DUPONT's EMMA (2020) is under 7 in 2026, LUCAS is not.
    await add_days(db, DUPONT, "EMMA", "garderie_soir", [5, 6], DayStatus.PRESENT, month=(2026, 11))
    await add_days(db, DUPONT, "EMMA", "cantine", [5, 6], DayStatus.PRESENT, month=(2026, 11))
    await add_days(
        db, DUPONT, "LUCAS", "garderie_matin", [5, 6], DayStatus.PRESENT, month=(2026, 11)
    )
    result = await issue(db, structure, BillingPeriod.month(2026, 11), today=dt.date(2026, 12, 1))
    (invoice,) = result.issued
    assert invoice.total == D("2") * D("2.20") + D("2") * D("3.50") + D("2") * D("1.50")
    await record_payment(
        db,
        family_number=DUPONT,
        amount=invoice.total,
        method=PaymentMethod.CESU,
        invoice_number=invoice.number,
        paid_on=dt.date(2026, 12, 10),
        staff_id=7,
        reference="r1",
        now=NOW,
    )
    dupont_id, _ = await family_and_children(db, DUPONT)
    async with db.unit_of_work() as uow:
        document = await attestation_document(
            uow, structure, dupont_id, 2026, today=dt.date(2027, 1, 5)
        )
    # November's 4,40 € of garderie, and the demo's September paid in October (2 garderies du soir
    # 4,40 € + 5 mercredis 55,00 €; meals and goûters are not childcare).
    assert [(c.name, c.amount) for c in document.children] == [
        ("EMMA DUPONT", D("4.40") + D("59.40"))
    ]
