"""Two structures in one database, both holding the demo and a row of every kind.

`two_structures(db)` makes structure 2 in the registry, seeds both with the demo families
and adds to each what the demo lacks (Telegram links, invites, messages, requests,
documents, outbox rows, audit, bot state, reminders, attendance, imports…), so that every
repository method has something to find in structure 1. `Rows` keeps structure 1's ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from bot.domain.model import (
    DayStatus,
    HealthItemKind,
    MessageDirection,
    RequestKind,
    RequestStatus,
)
from bot.services.demo import load_demo
from bot.services.structure_sync import sync_structure
from bot.structure import Structure
from storage.db import Database
from storage.models import (
    AttendanceMark,
    AttendanceSession,
    AuthorizedPerson,
    BookingWindow,
    BotState,
    Closure,
    DayEntry,
    DayEntryEvent,
    Document,
    Enrolment,
    Family,
    FamilyChild,
    FamilyImport,
    FamilyImportSnapshot,
    HandledUpdate,
    HealthItem,
    Invite,
    Invoice,
    Message,
    OutboxMessage,
    Payment,
    Regie,
    ReminderLog,
    ReminderPreference,
    Request,
    SchoolYear,
    Service,
    StructureRecord,
    TelegramLink,
    TelegramUser,
    Vaccination,
    WaitingListEntry,
)

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
DAY = dt.date(2026, 11, 25)
"""A day of the tests' own rows (closures, bookings, attendance)."""
SHARED_USER = 5_000_001
"""A Telegram account that is a parent in both structures (accounts are global)."""
UPDATE_ID = 777_001
CODE_HASH = "1" * 64
YEAR_ENDS = {"s1": dt.date(2027, 7, 4), "s2": dt.date(2027, 7, 3)}


@dataclass(frozen=True)
class Rows:
    """Ids and keys of one structure's rows."""

    structure_id: int
    family_id: int
    family_number: str
    child_id: int
    child_first_name: str
    service_id: int
    service_code: str
    regie_id: int
    regie_code: str
    invoice_id: int
    invoice_number: str
    invoice_period_start: dt.date
    invoice_due_on: dt.date
    payment_number: str
    payment_reference: str
    charge_id: str
    link_id: int
    user_id: int
    message_id: int
    admin_message_id: int
    request_id: int
    idempotency_key: str
    document_id: int
    file_id: str
    day_entry_id: int
    attendance_session_id: int
    reminder_log_id: int
    person_id: int
    outbox_ids: tuple[int, ...]
    template: str
    dedupe_prefix: str
    preference_kind: str
    family_count: int


async def two_structures(db: Database, structure: Structure) -> tuple[Rows, Rows]:
    """Structure 2 in the registry; both structures seeded; their rows' ids."""
    async with db.registry().unit_of_work() as uow:
        uow.session.add(
            StructureRecord(
                slug="autre",
                name="Autre commune",
                staff_user_ids="",
                timezone="Europe/Paris",
                enabled=True,
            )
        )
        await uow.commit()
    first = await _seed(db, structure, user_id=5_000_101)
    second = await _seed(db.for_structure(2), structure, user_id=5_000_201)
    return first, second


async def _seed(db: Database, structure: Structure, *, user_id: int) -> Rows:
    assert db.structure_id is not None
    async with db.unit_of_work() as uow:
        await sync_structure(uow, structure)
        await load_demo(uow, structure, TODAY)
        await uow.commit()
    marker = f"s{db.structure_id}"
    async with db.unit_of_work() as uow:
        session = uow.session
        family = (await session.execute(select(Family).order_by(Family.id))).scalars().first()
        assert family is not None
        pair = (
            await session.execute(
                select(FamilyChild).where(FamilyChild.family_id == family.id).limit(1)
            )
        ).scalar_one()
        child = await uow.repos.children.of_family(family.id, pair.child_id)
        assert child is not None
        enrolment = (
            (
                await session.execute(
                    select(Enrolment).where(
                        Enrolment.family_id == family.id, Enrolment.child_id == child.id
                    )
                )
            )
            .scalars()
            .first()
        )
        assert enrolment is not None
        service = await session.get(Service, enrolment.service_id)
        assert service is not None
        regie = await session.get(Regie, service.regie_id)
        assert regie is not None
        invoice = (
            (
                await session.execute(
                    select(Invoice).where(Invoice.family_id == family.id).order_by(Invoice.id)
                )
            )
            .scalars()
            .first()
        )
        assert invoice is not None
        enrolment.regular_weekdays = "0,2"
        enrolment.ends_on = None
        payment = Payment(
            family_id=family.id,
            regie_id=regie.id,
            number=f"PX-{marker.upper()}",
            paid_on=TODAY,
            method=(await session.execute(select(Payment.method).limit(1))).scalar_one(),
            amount=Decimal("1.00"),
            reference=f"ref-{marker}",
            telegram_charge_id=f"charge-{marker}",
        )
        session.add_all(
            [TelegramUser(id=user_id), TelegramUser(id=SHARED_USER, unreachable_since=NOW)]
        )
        await session.flush()
        link = TelegramLink(
            family_id=family.id, telegram_user_id=user_id, linked_at=NOW, linked_by="invite"
        )
        shared_link = TelegramLink(
            family_id=family.id, telegram_user_id=SHARED_USER, linked_at=NOW, linked_by="invite"
        )
        invite = Invite(
            family_id=family.id,
            code_hash=(CODE_HASH if db.structure_id == 1 else "2" * 64),
            created_at=NOW,
            expires_at=NOW + dt.timedelta(days=30),
        )
        message = Message(
            family_id=family.id,
            direction=MessageDirection.FROM_STRUCTURE,
            subject="Objet",
            body="Bonjour",
            created_at=NOW,
        )
        session.add_all([payment, link, shared_link, invite, message])
        await session.flush()
        reply = Message(
            family_id=family.id,
            direction=MessageDirection.FROM_FAMILY,
            subject="Re",
            body="Merci",
            created_at=NOW,
            reply_to_id=message.id,
            admin_message_id=900 + db.structure_id,
        )
        request = Request(
            family_id=family.id,
            kind=RequestKind.ABSENCE,
            status=RequestStatus.PENDING,
            payload={},
            created_at=NOW - dt.timedelta(days=1),
            idempotency_key=f"key-{marker}",
        )
        document = Document(title="Menu", telegram_file_id=f"file-{marker}", published_at=NOW)
        session.add_all([reply, request, document])
        await session.flush()
        entry = DayEntry(
            family_id=family.id,
            child_id=child.id,
            service_id=service.id,
            day=DAY,
            status=DayStatus.RESERVED,
            request_id=request.id,
        )
        session.add(entry)
        await session.flush()
        attendance = AttendanceSession(service_id=service.id, day=DAY)
        person = AuthorizedPerson(child_id=child.id, last_name="MARTIN", first_name="PAUL")
        session.add_all(
            [
                attendance,
                person,
                DayEntryEvent(
                    day_entry_id=entry.id, at=NOW, actor_kind="staff", to_status=DayStatus.RESERVED
                ),
                AttendanceMark(
                    child_id=child.id, service_id=service.id, family_id=family.id, day=DAY
                ),
                WaitingListEntry(
                    child_id=child.id,
                    service_id=service.id,
                    family_id=family.id,
                    day=DAY,
                    created_at=NOW,
                ),
                Closure(day=DAY, service_id=service.id, reason="Grève"),
                BookingWindow(
                    service_id=service.id,
                    period_starts_on=DAY,
                    period_ends_on=DAY,
                    opens_at=NOW,
                    closes_at=NOW,
                ),
                SchoolYear(
                    label="2026-2027", starts_on=dt.date(2026, 9, 1), ends_on=YEAR_ENDS[marker]
                ),
                Vaccination(
                    child_id=child.id, name="DTP", given_on=dt.date(2020, 1, 1), booster_on=DAY
                ),
                HealthItem(child_id=child.id, kind=HealthItemKind.ALLERGY, description="Arachide"),
                BotState(
                    kind="user_data",
                    key=str(SHARED_USER),
                    data={"n": db.structure_id},
                    updated_at=NOW,
                ),
                BotState(kind="chat_data", key=str(user_id), data={}, updated_at=NOW),
                ReminderPreference(telegram_user_id=user_id, kind=f"news:{marker}", enabled=False),
                HandledUpdate(update_id=UPDATE_ID, handled_at=NOW),
                DayEntry(
                    family_id=family.id,
                    child_id=child.id,
                    service_id=service.id,
                    day=DAY + dt.timedelta(days=1),
                    status=DayStatus.REGULAR,
                ),
            ]
        )
        await session.flush()
        if marker == "s1":  # imports only in structure 1: `ever_imported` tells them apart
            session.add(
                FamilyImport(at=NOW, actor_kind="staff", source="familles.csv", digest="0" * 64)
            )
            await session.flush()
            session.add(
                FamilyImportSnapshot(
                    family_id=family.id,
                    import_id=(await session.execute(select(FamilyImport.id))).scalar_one(),
                    imported_at=NOW,
                    values={},
                )
            )
        log = ReminderLog(
            kind="booking", recipient=user_id, subject=f"subject-{marker}", created_at=NOW
        )
        session.add(log)
        uow.repos.audit.record(
            action="invite.claim",
            outcome="refused",
            actor_telegram_id=SHARED_USER,
            actor_kind="parent",
            family_id=family.id,
            at=NOW,
        )
        template = f"test.{marker}"
        outbox = [
            OutboxMessage(
                audience="family",
                chat_id=SHARED_USER,
                family_id=family.id,
                template=template,
                params={},
                language=None,
                priority=1,
                status=status,
                attempts=0,
                created_at=NOW,
                available_at=NOW - dt.timedelta(hours=3 - db.structure_id),
                expires_at=NOW,
                dedupe_key=f"batch-{marker}:{status}",
            )
            for status in ("pending", "sending", "expired")
        ]
        session.add_all(outbox)
        await session.flush()
        rows = Rows(
            structure_id=db.structure_id,
            family_id=family.id,
            family_number=family.number,
            child_id=child.id,
            child_first_name=child.first_name,
            service_id=service.id,
            service_code=service.code,
            regie_id=regie.id,
            regie_code=regie.code,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            invoice_period_start=invoice.period_start,
            invoice_due_on=invoice.due_on,
            payment_number=payment.number,
            payment_reference=f"ref-{marker}",
            charge_id=f"charge-{marker}",
            link_id=link.id,
            user_id=user_id,
            message_id=message.id,
            admin_message_id=900 + db.structure_id,
            request_id=request.id,
            idempotency_key=f"key-{marker}",
            document_id=document.id,
            file_id=f"file-{marker}",
            day_entry_id=entry.id,
            attendance_session_id=attendance.id,
            reminder_log_id=log.id,
            person_id=person.id,
            outbox_ids=tuple(row.id for row in outbox),
            template=template,
            dedupe_prefix=f"batch-{marker}",
            preference_kind=f"news:{marker}",
            family_count=len((await session.execute(select(Family.id))).all()),
        )
        await uow.commit()
    return rows
