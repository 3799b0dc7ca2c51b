"""Attendance on both engines: a day walked from pointage to the month's invoice, the
no-show notice, and the regular contract.

The demo is loaded on Monday 23 November 2026. On Thursday 26 November, the evening garderie
has three children booked (LUCAS and EMMA DUPONT, CHLOÉ MARTIN); LUCAS and CHLOÉ are ticked,
EMMA is not; TOM MARTIN, enrolled but not booked, comes anyway. The session is closed, then
November is invoiced on 1 December.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.domain.billing import BillingPeriod
from bot.domain.model import DayStatus
from bot.domain.tariffs import Basis, Bracket, Tariff, Unit
from bot.services import attendance, bookings
from bot.services.attendance import Mode, OpenOutcome
from bot.services.staff_day import staff_headcount
from bot.services.use_case import NotAllowed
from bot.structure import Structure
from storage.db import Database
from storage.models import (
    AuditEntry,
    Child,
    DayEntry,
    Enrolment,
    FamilyChild,
    Invoice,
    OutboxMessage,
)
from tests.support.money import DUPONT, MARTIN, PARIS, add_days, family_and_children, link_account

D = Decimal
THURSDAY = dt.date(2026, 11, 26)
NOVEMBER = BillingPeriod.month(2026, 11)
STAFF = 7
ADMIN_CHAT = -100


def at(hour: int, minute: int, day: dt.date = THURSDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


async def _tom(db: Database) -> int:
    """TOM MARTIN, enrolled in the evening garderie (CHLOÉ too), never booked."""
    martin_id, children = await family_and_children(db, MARTIN)
    async with db.unit_of_work() as uow:
        soir = await uow.repos.structure.service_by_code("garderie_soir")
        assert soir is not None
        tom = Child(last_name="MARTIN", first_name="TOM", sex="M")
        uow.session.add(tom)
        await uow.session.flush()
        uow.session.add(FamilyChild(family_id=martin_id, child_id=tom.id))
        for child_id in (tom.id, children["CHLOÉ"]):
            uow.session.add(
                Enrolment(
                    child_id=child_id,
                    service_id=soir.id,
                    family_id=martin_id,
                    starts_on=dt.date(2026, 9, 1),
                )
            )
        await uow.commit()
        return tom.id


async def _walk_the_day(
    db: Database, structure: Structure, *, gouter: bool = False
) -> dict[str, int]:
    """Book, tick, add, depart and close as the module's docstring says; the children's ids.

    With ``gouter``, LUCAS and EMMA have the goûter booked too (it has no pointage of its own).
    """
    tom = await _tom(db)
    if gouter:
        for name in ("LUCAS", "EMMA"):
            await add_days(db, DUPONT, name, "gouter", [26], DayStatus.RESERVED, (2026, 11))
    _, dupont = await family_and_children(db, DUPONT)
    _, martin = await family_and_children(db, MARTIN)
    for number, name in ((DUPONT, "LUCAS"), (DUPONT, "EMMA"), (MARTIN, "CHLOÉ")):
        await add_days(db, number, name, "garderie_soir", [26], DayStatus.RESERVED, (2026, 11))
    await link_account(db, DUPONT, 501, "fr")
    await link_account(db, MARTIN, 502, "fr")
    opened = await attendance.open_pointage(
        db,
        structure,
        service_code=None,  # the service running now
        day=THURSDAY,
        chat_id=ADMIN_CHAT,
        staff_id=STAFF,
        now=at(16, 31),
        tz=PARIS,
    )
    assert opened.outcome is OpenOutcome.OPENED and opened.view is not None
    view = opened.view
    assert view.service_code == "garderie_soir"
    assert [row.first_name for row in view.rows] == ["CHLOÉ", "EMMA", "LUCAS"]
    session = view.session_id
    lucas, chloe = dupont["LUCAS"], martin["CHLOÉ"]
    for child in (lucas, chloe):
        await attendance.mark_child(
            db,
            structure,
            session,
            child,
            mode=Mode.TICK,
            staff_id=STAFF,
            now=at(16, 30),
            shown_in=None,
        )
    await attendance.add_child(
        db, structure, session, tom, staff_id=STAFF, now=at(17, 0), shown_in=None
    )
    for child, when in ((lucas, at(17, 10)), (tom, at(17, 20))):
        await attendance.mark_child(
            db,
            structure,
            session,
            child,
            mode=Mode.DEPARTURE,
            staff_id=STAFF,
            now=when,
            shown_in=None,
        )
    closed = await attendance.close_session(
        db, structure, session, staff_id=STAFF, now=at(18, 35), shown_in=None
    )
    assert (closed.no_shows, closed.notices) == (1, 1)
    return {"LUCAS": lucas, "EMMA": dupont["EMMA"], "CHLOÉ": chloe, "TOM": tom}


async def _statuses(db: Database, children: dict[str, int], code: str) -> dict[str, DayStatus]:
    async with db.unit_of_work() as uow:
        service = await uow.repos.structure.service_by_code(code)
        assert service is not None
        rows = (
            await uow.session.execute(
                select(DayEntry).where(DayEntry.day == THURSDAY, DayEntry.service_id == service.id)
            )
        ).scalars()
        names = {child_id: name for name, child_id in children.items()}
        return {names[row.child_id]: row.status for row in rows if row.child_id in names}


async def _lines(db: Database, number: str) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    family_id, _ = await family_and_children(db, number)
    async with db.unit_of_work() as uow:
        invoice = (
            await uow.session.execute(
                select(Invoice).where(
                    Invoice.family_id == family_id, Invoice.period_start == NOVEMBER.start
                )
            )
        ).scalar_one()
        full = await uow.repos.accounts.get_invoice(invoice.id)
        assert full is not None
        return [(li.label, li.quantity, li.unit_price, li.amount) for li in full.lines]


async def _issue_november(db: Database, structure: Structure) -> None:
    from bot.services.billing import issue_invoices

    await issue_invoices(
        db,
        structure,
        NOVEMBER,
        today=dt.date(2026, 12, 1),
        now=at(9, 0, dt.date(2026, 12, 1)),
        actor_telegram_id=STAFF,
        actor_kind="staff",
    )


async def test_a_closed_session_turns_ticks_into_presence_and_no_shows_into_billed_absences(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    children = await _walk_the_day(db, structure, gouter=True)

    assert await _statuses(db, children, "garderie_soir") == {
        "LUCAS": DayStatus.PRESENT,
        "CHLOÉ": DayStatus.PRESENT,
        "EMMA": DayStatus.ABSENT_BILLED,
        "TOM": DayStatus.PRESENT,
    }
    # The goûter, booked with the evening garderie, follows it: EMMA's is billed as absent too.
    assert await _statuses(db, children, "gouter") == {
        "LUCAS": DayStatus.PRESENT,
        "EMMA": DayStatus.ABSENT_BILLED,
    }
    async with db.unit_of_work() as uow:
        notices = (
            (
                await uow.session.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.template == attendance.TEMPLATE_NO_SHOW
                    )
                )
            )
            .scalars()
            .all()
        )
        audits = (
            await uow.session.execute(
                select(AuditEntry.action, AuditEntry.details).where(
                    AuditEntry.action.like("attendance.%")
                )
            )
        ).all()
    assert [(n.chat_id, n.params["child"], n.params["service"]) for n in notices] == [
        (501, "EMMA", "Garderie soir")
    ]
    marks = [details["mark"] for action, details in audits if action == attendance.ACTION_MARK]
    assert marks == ["present", "present", "added", "departure", "departure"]
    assert [action for action, _ in audits].count(attendance.ACTION_CLOSE) == 1


async def test_a_per_day_tariff_bills_the_present_the_billed_absent_and_the_hors_contrat(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    await _walk_the_day(db, structure)

    await _issue_november(db, structure)

    # DUPONT (QF 850, CAF): 2,20 € a day.
    assert await _lines(db, DUPONT) == [
        ("Garderie soir — EMMA", D("1.00"), D("2.20"), D("2.20")),
        ("Garderie soir — LUCAS", D("1.00"), D("2.20"), D("2.20")),
    ]
    # MARTIN (QF 1250): 2,80 € a day; TOM came without a booking (no hors contrat price set).
    assert await _lines(db, MARTIN) == [
        ("Garderie soir — CHLOÉ", D("1.00"), D("2.80"), D("2.80")),
        (
            "Garderie soir — TOM (sans réservation (hors contrat), 1 jour de présence)",
            D("1.00"),
            D("2.80"),
            D("2.80"),
        ),
    ]


def _quarter_hour_structure(structure: Structure) -> Structure:
    soir = structure.service("garderie_soir")
    tariff = Tariff(
        brackets=(Bracket(D("0.50")),),
        unit=Unit.QUARTER_HOUR,
        counts=Basis.QUARTER_HOURS,
        hors_contrat=D("0.80"),
    )
    services = tuple(
        dataclasses.replace(s, tariff=tariff) if s is soir else s for s in structure.services
    )
    return dataclasses.replace(structure, services=services)


async def test_a_quarter_hour_tariff_bills_each_started_quarter_of_presence(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    quarter = _quarter_hour_structure(structure)
    await _walk_the_day(db, quarter)

    await _issue_november(db, quarter)

    # LUCAS 16:30 → 17:10: 3 started quarters; EMMA absent billed: the whole session (8).
    assert await _lines(db, DUPONT) == [
        (
            "Garderie soir — EMMA (8 quarts d’heure sur 1 jour, 1 absence facturée)",
            D("8.00"),
            D("0.50"),
            D("4.00"),
        ),
        ("Garderie soir — LUCAS (3 quarts d’heure sur 1 jour)", D("3.00"), D("0.50"), D("1.50")),
    ]
    # CHLOÉ 16:30 → the end (18:30): 8; TOM 17:00 → 17:20, hors contrat at 0,80 €: 2.
    assert await _lines(db, MARTIN) == [
        ("Garderie soir — CHLOÉ (8 quarts d’heure sur 1 jour)", D("8.00"), D("0.50"), D("4.00")),
        (
            "Garderie soir — TOM (sans réservation (hors contrat), 2 quarts d’heure sur 1 jour)",
            D("2.00"),
            D("0.80"),
            D("1.60"),
        ),
    ]


async def test_a_tap_naming_a_child_not_on_the_list_is_refused_and_audited(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    _, martin = await family_and_children(db, MARTIN)
    await add_days(db, DUPONT, "LUCAS", "garderie_soir", [26], DayStatus.RESERVED, (2026, 11))
    opened = await attendance.open_pointage(
        db,
        structure,
        service_code="garderie_soir",
        day=THURSDAY,
        chat_id=ADMIN_CHAT,
        staff_id=STAFF,
        now=at(16, 31),
        tz=PARIS,
    )
    assert opened.view is not None
    with pytest.raises(NotAllowed):  # CHLOÉ is neither booked nor enrolled in the evening
        await attendance.mark_child(
            db,
            structure,
            opened.view.session_id,
            martin["CHLOÉ"],
            mode=Mode.TICK,
            staff_id=STAFF,
            now=at(16, 40),
            shown_in=None,
        )
    with pytest.raises(NotAllowed):
        await attendance.add_child(
            db,
            structure,
            opened.view.session_id,
            martin["CHLOÉ"],
            staff_id=STAFF,
            now=at(16, 40),
            shown_in=None,
        )
    with pytest.raises(NotAllowed):  # a session that does not exist
        await attendance.close_session(
            db, structure, 99999, staff_id=STAFF, now=at(18, 0), shown_in=None
        )
    async with db.unit_of_work() as uow:
        refused = (
            (
                await uow.session.execute(
                    select(AuditEntry.action).where(AuditEntry.outcome == "refused")
                )
            )
            .scalars()
            .all()
        )
    assert refused.count(attendance.ACTION_MARK) == 3


async def test_each_tap_edits_the_other_staff_members_list_of_the_session(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    _, dupont = await family_and_children(db, DUPONT)
    await add_days(db, DUPONT, "LUCAS", "garderie_soir", [26], DayStatus.RESERVED, (2026, 11))
    opened = await attendance.open_pointage(
        db,
        structure,
        service_code="garderie_soir",
        day=THURSDAY,
        chat_id=11,
        staff_id=STAFF,
        now=at(16, 31),
        tz=PARIS,
    )
    assert opened.view is not None
    session = opened.view.session_id
    async with db.unit_of_work() as uow:  # as the sender does once each list is posted
        await attendance.remember_list_message(uow, session, 11, 900, 0, "t")
        await attendance.remember_list_message(uow, session, 12, 901, 0, "t")
        await uow.commit()

    view = await attendance.mark_child(
        db,
        structure,
        session,
        dupont["LUCAS"],
        mode=Mode.TICK,
        staff_id=STAFF,
        now=at(16, 40),
        shown_in=(11, 900, 0),
    )

    assert view.present == 1
    async with db.unit_of_work() as uow:
        edits = (
            (
                await uow.session.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.template == attendance.TEMPLATE_LIST_EDIT
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [(e.chat_id, e.params["message_id"]) for e in edits] == [(12, 901)]


async def test_a_regular_contract_writes_regular_days_billed_and_cancelled_with_the_usual_rules(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    _, dupont = await family_and_children(db, DUPONT)
    await link_account(db, DUPONT, 501, "fr")
    monday = dt.datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)

    result = await attendance.set_contract(
        db,
        structure,
        family_number=DUPONT,
        first_name="lucas",
        service_code="garderie_matin",
        weekdays=frozenset({0, 1, 3}),  # lun, mar, jeu
        staff_id=STAFF,
        now=monday,
        today=monday.date(),
        tz=PARIS,
    )

    # Up to the horizon (Monday 4 January): 11 days before the Christmas holidays, and the 4th.
    assert result.outcome is attendance.ContractOutcome.SET and result.days_added == 12
    async with db.unit_of_work() as uow:
        matin = await uow.repos.structure.service_by_code("garderie_matin")
        assert matin is not None
        days = {
            e.day: e.status
            for e in await uow.repos.attendance.entries_from(
                dupont["LUCAS"], matin.id, dt.date(2026, 11, 23), dt.date(2026, 12, 1)
            )
        }
    # Tuesday 24, Thursday 26, Monday 30 and Tuesday 1st; not today, not Friday 27.
    assert days == {
        dt.date(2026, 11, 24): DayStatus.REGULAR,
        dt.date(2026, 11, 26): DayStatus.REGULAR,
        dt.date(2026, 11, 30): DayStatus.REGULAR,
        dt.date(2026, 12, 1): DayStatus.REGULAR,
    }
    # The parent cancels Thursday in time (before closing on Tuesday): nothing billed.
    done = await bookings.act_on_day(
        db,
        501,
        bookings.DayAction.CANCEL,
        dupont["LUCAS"],
        matin.id,
        dt.date(2026, 11, 26),
        structure=structure,
        tz=PARIS,
        now=at(12, 0, dt.date(2026, 11, 24)),
    )
    assert done.result.outcome is bookings.BookingOutcome.CANCELLED
    # Monday 30: after closing on Friday 27, the cancellation is late (billed unless excused).
    late = await bookings.act_on_day(
        db,
        501,
        bookings.DayAction.CANCEL,
        dupont["LUCAS"],
        matin.id,
        dt.date(2026, 11, 30),
        structure=structure,
        tz=PARIS,
        now=at(19, 0, dt.date(2026, 11, 27)),
    )
    assert late.result.outcome is bookings.BookingOutcome.LATE_CONSENT_NEEDED

    await _issue_november(db, structure)

    # 24 and 30 November at 1,50 € (QF 850); 26 cancelled in time.
    assert await _lines(db, DUPONT) == [("Garderie matin — LUCAS", D("2.00"), D("1.50"), D("3.00"))]


async def test_the_headcount_of_a_closed_day_counts_who_came_not_who_was_booked(
    any_demo_database: Database, structure: Structure
) -> None:
    db = any_demo_database
    children = await _walk_the_day(db, structure)

    counted = await staff_headcount(db, THURSDAY, staff_id=STAFF, now=at(19, 0))

    soir = next(s for s in counted.services if s.code == "garderie_soir")
    # EMMA (booked, did not come) is out; TOM (came without a booking) is in.
    assert sorted((c.first_name, c.status) for c in soir.children) == [
        ("CHLOÉ", DayStatus.PRESENT),
        ("LUCAS", DayStatus.PRESENT),
        ("TOM", DayStatus.PRESENT),
    ]
    assert "EMMA" in children
