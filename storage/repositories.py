"""Repositories: the queries the services need, grouped by aggregate.

Services never write SQL; they call these methods on `uow.repos`. Each repository works on the
unit of work's session and never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.domain.model import DayStatus, HealthItemKind, MessageDirection, RequestStatus
from storage.models import (
    AuditEntry,
    AuthorizedPerson,
    Base,
    BookingWindow,
    BotState,
    Child,
    Closure,
    DayEntry,
    DayEntryEvent,
    Document,
    Enrolment,
    Family,
    FamilyChild,
    Guardian,
    HealthItem,
    Invite,
    Invoice,
    Message,
    Payment,
    Regie,
    Request,
    Service,
    TelegramLink,
    TelegramUser,
    Vaccination,
    WaitingListEntry,
    utcnow,
)


class FamilyRepository:
    """Families, their guardians and children."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, family_id: int) -> Family | None:
        """A family with its guardians loaded."""
        stmt = select(Family).where(Family.id == family_id).options(selectinload(Family.guardians))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_by_number(self, number: str) -> Family | None:
        """A family by its N° famille, guardians loaded."""
        stmt = select(Family).where(Family.number == number).options(selectinload(Family.guardians))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def count(self) -> int:
        """How many families are recorded."""
        return (await self.session.execute(select(func.count(Family.id)))).scalar_one()

    async def children(self, family_id: int) -> Sequence[Child]:
        """The children of a family, by first name."""
        stmt = (
            select(Child)
            .join(FamilyChild, FamilyChild.child_id == Child.id)
            .where(FamilyChild.family_id == family_id)
            .order_by(Child.first_name, Child.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    def add(self, family: Family) -> None:
        """Stage a new family."""
        self.session.add(family)


class TelegramRepository:
    """Telegram accounts, their language and their links to families."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_or_create_user(self, user_id: int) -> TelegramUser:
        """The account's row, created on first sight."""
        user = await self.session.get(TelegramUser, user_id)
        if user is None:
            user = TelegramUser(id=user_id)
            self.session.add(user)
            await self.session.flush()
        return user

    async def get_user(self, user_id: int) -> TelegramUser | None:
        """The account's row, if it was ever seen."""
        return await self.session.get(TelegramUser, user_id)

    async def active_link(self, user_id: int) -> TelegramLink | None:
        """The account's current link to a family, if any."""
        stmt = select(TelegramLink).where(
            TelegramLink.telegram_user_id == user_id, TelegramLink.revoked_at.is_(None)
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def active_links_of_family(self, family_id: int) -> Sequence[TelegramLink]:
        """Every account currently linked to a family."""
        stmt = select(TelegramLink).where(
            TelegramLink.family_id == family_id, TelegramLink.revoked_at.is_(None)
        )
        return (await self.session.execute(stmt)).scalars().all()

    def add_link(self, link: TelegramLink) -> None:
        """Stage a new link."""
        self.session.add(link)

    async def revoke_links_of_user(self, user_id: int, at: dt.datetime) -> int:
        """Revoke every active link of an account; return how many were revoked."""
        stmt = (
            update(TelegramLink)
            .where(TelegramLink.telegram_user_id == user_id, TelegramLink.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        result = await self.session.execute(stmt)
        return result.rowcount or 0

    async def recipients_of_family(self, family_id: int) -> Sequence[tuple[int, str | None]]:
        """(account id, stored language) of every account currently linked to a family."""
        stmt = (
            select(TelegramLink.telegram_user_id, TelegramUser.language)
            .join(TelegramUser, TelegramUser.id == TelegramLink.telegram_user_id)
            .where(TelegramLink.family_id == family_id, TelegramLink.revoked_at.is_(None))
            .order_by(TelegramLink.id)
        )
        return [(user_id, language) for user_id, language in (await self.session.execute(stmt)).all()]

    async def all_recipients(self) -> Sequence[tuple[int, int, str | None]]:
        """(family id, account id, stored language) of every active link, family by family."""
        stmt = (
            select(TelegramLink.family_id, TelegramLink.telegram_user_id, TelegramUser.language)
            .join(TelegramUser, TelegramUser.id == TelegramLink.telegram_user_id)
            .where(TelegramLink.revoked_at.is_(None))
            .order_by(TelegramLink.family_id, TelegramLink.id)
        )
        return [(family_id, user_id, language) for family_id, user_id, language in (await self.session.execute(stmt)).all()]

    async def get_link(self, link_id: int) -> TelegramLink | None:
        """A link by id, whatever its state."""
        return await self.session.get(TelegramLink, link_id)

    async def links_of_family_with_users(self, family_id: int) -> Sequence[tuple[TelegramLink, TelegramUser]]:
        """The family's active links with their accounts, oldest first."""
        stmt = (
            select(TelegramLink, TelegramUser)
            .join(TelegramUser, TelegramUser.id == TelegramLink.telegram_user_id)
            .where(TelegramLink.family_id == family_id, TelegramLink.revoked_at.is_(None))
            .order_by(TelegramLink.id)
        )
        return [(link, user) for link, user in (await self.session.execute(stmt)).all()]

    async def mark_unreachable(self, user_ids: Sequence[int], since: dt.datetime) -> None:
        """Note accounts the bot cannot write to (blocked it); the first date is kept."""
        if user_ids:
            stmt = (
                update(TelegramUser)
                .where(TelegramUser.id.in_(list(user_ids)), TelegramUser.unreachable_since.is_(None))
                .values(unreachable_since=since)
            )
            await self.session.execute(stmt)

    async def mark_reachable(self, user_ids: Sequence[int]) -> None:
        """Forget that these accounts were unreachable (a message got through)."""
        if user_ids:
            stmt = (
                update(TelegramUser)
                .where(TelegramUser.id.in_(list(user_ids)), TelegramUser.unreachable_since.is_not(None))
                .values(unreachable_since=None)
            )
            await self.session.execute(stmt)


class InviteRepository:
    """One-time invitation codes (stored hashed)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, invite: Invite) -> None:
        """Stage a new invite."""
        self.session.add(invite)

    async def claim(self, code_hash: str, user_id: int, now: dt.datetime) -> int | None:
        """Atomically mark a valid invite used; return its family id, or None.

        A single conditional UPDATE, so two users racing for the same code cannot both win.
        """
        stmt = (
            update(Invite)
            .where(Invite.code_hash == code_hash, Invite.used_at.is_(None), Invite.expires_at > now)
            .values(used_at=now, used_by=user_id)
            .returning(Invite.family_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_by_hash(self, code_hash: str) -> Invite | None:
        """An invite by its hash, whatever its state."""
        stmt = select(Invite).where(Invite.code_hash == code_hash)
        return (await self.session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True)
class UnpaidInvoice:
    """An invoice with what remains to pay on it."""

    invoice: Invoice
    paid: Decimal

    @property
    def due(self) -> Decimal:
        """The amount still to pay."""
        return self.invoice.total - self.paid


class AccountRepository:
    """Invoices and payments of a family."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def balance(self, family_id: int) -> Decimal:
        """What the family owes: invoiced minus paid (negative when in credit)."""
        invoiced = select(func.coalesce(func.sum(Invoice.total), 0)).where(Invoice.family_id == family_id)
        paid = select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.family_id == family_id)
        total_invoiced = Decimal((await self.session.execute(invoiced)).scalar_one())
        total_paid = Decimal((await self.session.execute(paid)).scalar_one())
        return (total_invoiced - total_paid).quantize(Decimal("0.01"))

    async def unpaid_invoices(self, family_id: int) -> list[UnpaidInvoice]:
        """Invoices not fully paid, oldest due date first."""
        paid = (
            select(Payment.invoice_id, func.sum(Payment.amount).label("paid"))
            .where(Payment.family_id == family_id, Payment.invoice_id.is_not(None))
            .group_by(Payment.invoice_id)
            .subquery()
        )
        stmt = (
            select(Invoice, func.coalesce(paid.c.paid, 0))
            .outerjoin(paid, paid.c.invoice_id == Invoice.id)
            .where(Invoice.family_id == family_id)
            .order_by(Invoice.due_on, Invoice.id)
        )
        rows = (await self.session.execute(stmt)).all()
        result = [UnpaidInvoice(invoice, Decimal(paid_amount)) for invoice, paid_amount in rows]
        return [item for item in result if item.due > 0]

    def add(self, row: Invoice | Payment) -> None:
        """Stage an invoice or a payment."""
        self.session.add(row)


class MessageRepository:
    """The boîte de réception."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unread_count(self, family_id: int) -> int:
        """Messages from the structure the family has not read (deleted ones excluded)."""
        stmt = select(func.count(Message.id)).where(
            Message.family_id == family_id,
            Message.direction == MessageDirection.FROM_STRUCTURE,
            Message.read_at.is_(None),
            Message.deleted_at.is_(None),
        )
        return (await self.session.execute(stmt)).scalar_one()

    def add(self, message: Message) -> None:
        """Stage a message."""
        self.session.add(message)

    async def get(self, message_id: int) -> Message | None:
        """A message by id."""
        return await self.session.get(Message, message_id)

    def _box(self, family_id: int, direction: MessageDirection | None, deleted: bool) -> Any:
        condition = (Message.family_id == family_id) & (
            Message.deleted_at.is_not(None) if deleted else Message.deleted_at.is_(None)
        )
        if direction is not None:
            condition = condition & (Message.direction == direction)
        return condition

    async def of_family(
        self, family_id: int, *, direction: MessageDirection | None, deleted: bool, limit: int, offset: int = 0
    ) -> Sequence[Message]:
        """A page of a family's messages (one direction, deleted or not), newest first."""
        stmt = (
            select(Message)
            .where(self._box(family_id, direction, deleted))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def count_of_family(self, family_id: int, *, direction: MessageDirection | None, deleted: bool) -> int:
        """How many messages `of_family` would list in all."""
        stmt = select(func.count(Message.id)).where(self._box(family_id, direction, deleted))
        return (await self.session.execute(stmt)).scalar_one()

    async def replies_to(self, message_id: int) -> Sequence[Message]:
        """The messages answering one message, oldest first."""
        stmt = select(Message).where(Message.reply_to_id == message_id).order_by(Message.created_at, Message.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def by_admin_message(self, admin_message_id: int) -> Message | None:
        """The family's message shown in the admin group as this message."""
        stmt = (
            select(Message)
            .where(Message.admin_message_id == admin_message_id, Message.direction == MessageDirection.FROM_FAMILY)
            .order_by(Message.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def unrelayed(self, limit: int) -> Sequence[Message]:
        """Messages from families not yet shown in the admin group, oldest first."""
        stmt = (
            select(Message)
            .where(Message.direction == MessageDirection.FROM_FAMILY, Message.admin_message_id.is_(None))
            .order_by(Message.created_at, Message.id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def mark_read(self, message_ids: Sequence[int], at: dt.datetime) -> None:
        """Mark messages read (those already read keep their date)."""
        if message_ids:
            stmt = (
                update(Message)
                .where(Message.id.in_(list(message_ids)), Message.read_at.is_(None))
                .values(read_at=at)
            )
            await self.session.execute(stmt)


class StructureRepository:
    """Régies and services mirrored from the structure file."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def regie_by_code(self, code: str) -> Regie | None:
        """A régie by its code."""
        return (await self.session.execute(select(Regie).where(Regie.code == code))).scalar_one_or_none()

    async def service_by_code(self, code: str) -> Service | None:
        """A service by its code."""
        stmt = select(Service).where(Service.code == code)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def services(self) -> Sequence[Service]:
        """Every service, active or not."""
        return (await self.session.execute(select(Service).order_by(Service.id))).scalars().all()

    def add(self, row: Regie | Service) -> None:
        """Stage a régie or a service."""
        self.session.add(row)

    async def flush(self) -> None:
        """Send staged rows so they get their ids."""
        await self.session.flush()


class AuditRepository:
    """The audit log."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(
        self,
        *,
        action: str,
        outcome: str,
        actor_telegram_id: int | None,
        actor_kind: str,
        family_id: int | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        """Stage an audit entry (committed with the unit of work), at `at` or now."""
        self.session.add(
            AuditEntry(
                at=at or utcnow(),
                action=action,
                outcome=outcome,
                actor_telegram_id=actor_telegram_id,
                actor_kind=actor_kind,
                family_id=family_id,
                target=target,
                details=details or {},
            )
        )

    async def count_since(self, *, action: str, outcome: str, actor_telegram_id: int, since: dt.datetime) -> int:
        """How many entries of this kind an actor has since an instant (for throttling)."""
        stmt = select(func.count(AuditEntry.id)).where(
            AuditEntry.action == action,
            AuditEntry.outcome == outcome,
            AuditEntry.actor_telegram_id == actor_telegram_id,
            AuditEntry.at >= since,
        )
        return (await self.session.execute(stmt)).scalar_one()

    async def entries(self, *, action: str | None = None) -> Sequence[AuditEntry]:
        """Entries, oldest first, optionally of one action."""
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if action is not None:
            stmt = stmt.where(AuditEntry.action == action)
        return (await self.session.execute(stmt)).scalars().all()


class BotStateRepository:
    """Key/value rows behind python-telegram-bot's persistence."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load(self, kind: str) -> dict[str, Any]:
        """Every key of a kind with its data."""
        stmt = select(BotState.key, BotState.data).where(BotState.kind == kind)
        return {key: data for key, data in (await self.session.execute(stmt)).all()}

    async def save(self, kind: str, key: str, data: Any) -> None:
        """Insert or replace one key."""
        row = await self.session.get(BotState, (kind, key))
        if row is None:
            self.session.add(BotState(kind=kind, key=key, data=data, updated_at=utcnow()))
        else:
            row.data = data
            row.updated_at = utcnow()

    async def remove(self, kind: str, key: str) -> None:
        """Delete one key, if present."""
        await self.session.execute(delete(BotState).where(BotState.kind == kind, BotState.key == key))


class RequestRepository:
    """Parent requests (demandes)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, request: Request) -> None:
        """Stage a new request."""
        self.session.add(request)

    async def get(self, request_id: int) -> Request | None:
        """A request by id."""
        return await self.session.get(Request, request_id)

    async def get_for_update(self, request_id: int) -> Request | None:
        """A request, locked until the end of the transaction (PostgreSQL; SQLite locks at BEGIN)."""
        stmt = select(Request).where(Request.id == request_id).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def by_idempotency_key(self, key: str) -> Request | None:
        """The request submitted with this key, if any."""
        stmt = select(Request).where(Request.idempotency_key == key)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def pending(self) -> Sequence[Request]:
        """Every pending request, oldest first."""
        stmt = (
            select(Request)
            .where(Request.status == RequestStatus.PENDING)
            .order_by(Request.created_at, Request.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def of_family(self, family_id: int, since: dt.datetime) -> Sequence[Request]:
        """A family's requests created since an instant, newest first."""
        stmt = (
            select(Request)
            .where(Request.family_id == family_id, Request.created_at >= since)
            .order_by(Request.created_at.desc(), Request.id.desc())
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def unposted(self, limit: int) -> Sequence[Request]:
        """Pending requests not yet shown in the admin group, oldest first."""
        stmt = (
            select(Request)
            .where(Request.status == RequestStatus.PENDING, Request.admin_message_id.is_(None))
            .order_by(Request.created_at, Request.id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def set_admin_message(self, request_ids: Sequence[int], message_id: int) -> None:
        """Remember the admin group message showing these requests."""
        if request_ids:
            stmt = update(Request).where(Request.id.in_(list(request_ids))).values(admin_message_id=message_id)
            await self.session.execute(stmt)

    async def pending_among(self, request_ids: Sequence[int]) -> Sequence[Request]:
        """Among these requests, the ones still pending."""
        if not request_ids:
            return []
        stmt = select(Request).where(Request.id.in_(list(request_ids)), Request.status == RequestStatus.PENDING)
        return (await self.session.execute(stmt)).scalars().all()


class PlanningRepository:
    """Day entries, enrolments, closures, booking windows and the waiting list."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def closures_between(self, first: dt.date, last: dt.date) -> Sequence[tuple[Closure, str | None]]:
        """Closures of the period with the code of the closed service (None: all services)."""
        stmt = (
            select(Closure, Service.code)
            .outerjoin(Service, Service.id == Closure.service_id)
            .where(Closure.day >= first, Closure.day <= last)
        )
        return [(closure, code) for closure, code in (await self.session.execute(stmt)).all()]

    async def booking_windows(self) -> Sequence[tuple[BookingWindow, str]]:
        """Every holiday booking window with its service's code."""
        stmt = select(BookingWindow, Service.code).join(Service, Service.id == BookingWindow.service_id)
        return [(window, code) for window, code in (await self.session.execute(stmt)).all()]

    async def child_of_family(self, family_id: int, child_id: int) -> Child | None:
        """The child when it belongs to the family, else None (the ownership check)."""
        stmt = (
            select(Child)
            .join(FamilyChild, FamilyChild.child_id == Child.id)
            .where(FamilyChild.family_id == family_id, Child.id == child_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def enrolments(self, family_id: int, child_id: int, first: dt.date, last: dt.date) -> Sequence[Enrolment]:
        """The child's enrolments with this family overlapping a period, services loaded."""
        stmt = (
            select(Enrolment)
            .join(Service, Service.id == Enrolment.service_id)
            .where(
                Enrolment.family_id == family_id,
                Enrolment.child_id == child_id,
                Enrolment.starts_on <= last,
                (Enrolment.ends_on.is_(None)) | (Enrolment.ends_on >= first),
                Service.active.is_(True),
            )
            .options(selectinload(Enrolment.service))
            .order_by(Service.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def entries(self, child_id: int, first: dt.date, last: dt.date) -> Sequence[DayEntry]:
        """A child's day entries over a period."""
        stmt = select(DayEntry).where(DayEntry.child_id == child_id, DayEntry.day >= first, DayEntry.day <= last)
        return (await self.session.execute(stmt)).scalars().all()

    async def entry(self, child_id: int, service_id: int, day: dt.date) -> DayEntry | None:
        """One child's entry for a service and day."""
        stmt = select(DayEntry).where(
            DayEntry.child_id == child_id, DayEntry.service_id == service_id, DayEntry.day == day
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def lock_service(self, service_id: int) -> None:
        """Serialise capacity checks of a service (row lock on PostgreSQL; SQLite locks at BEGIN)."""
        await self.session.execute(select(Service.id).where(Service.id == service_id).with_for_update())

    async def places_taken(self, service_id: int, day: dt.date, statuses: frozenset[DayStatus]) -> int:
        """How many children hold a place on a service's day."""
        stmt = select(func.count(DayEntry.id)).where(
            DayEntry.service_id == service_id, DayEntry.day == day, DayEntry.status.in_(statuses)
        )
        return (await self.session.execute(stmt)).scalar_one()

    async def waiting_days(self, child_id: int, first: dt.date, last: dt.date) -> Sequence[WaitingListEntry]:
        """The child's waiting-list entries over a period."""
        stmt = select(WaitingListEntry).where(
            WaitingListEntry.child_id == child_id, WaitingListEntry.day >= first, WaitingListEntry.day <= last
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def first_waiting(self, service_id: int, day: dt.date) -> WaitingListEntry | None:
        """The first child on a day's waiting list."""
        stmt = (
            select(WaitingListEntry)
            .where(WaitingListEntry.service_id == service_id, WaitingListEntry.day == day)
            .order_by(WaitingListEntry.created_at, WaitingListEntry.id)
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def waiting_entry(self, child_id: int, service_id: int, day: dt.date) -> WaitingListEntry | None:
        """The child's place on a day's waiting list, if any."""
        stmt = select(WaitingListEntry).where(
            WaitingListEntry.child_id == child_id, WaitingListEntry.service_id == service_id, WaitingListEntry.day == day
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def entries_of_request(self, request_id: int) -> Sequence[DayEntry]:
        """The day entries a booking or absence request created or changed."""
        stmt = select(DayEntry).where(DayEntry.request_id == request_id)
        return (await self.session.execute(stmt)).scalars().all()

    async def history(self, entry_id: int) -> Sequence[DayEntryEvent]:
        """The events of a day entry, oldest first."""
        stmt = select(DayEntryEvent).where(DayEntryEvent.day_entry_id == entry_id).order_by(DayEntryEvent.id)
        return (await self.session.execute(stmt)).scalars().all()

    def add(self, row: DayEntry | DayEntryEvent | WaitingListEntry) -> None:
        """Stage a row."""
        self.session.add(row)

    async def delete(self, row: WaitingListEntry) -> None:
        """Remove a waiting-list entry."""
        await self.session.delete(row)


class ChildRepository:
    """Children and what hangs off them: authorised persons, health data, enrolments."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_family(self, family_id: int, child_id: int) -> Child | None:
        """The child when it belongs to the family, else None (the ownership check)."""
        stmt = (
            select(Child)
            .join(FamilyChild, FamilyChild.child_id == Child.id)
            .where(FamilyChild.family_id == family_id, Child.id == child_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def ids_of_family(self, family_id: int) -> list[int]:
        """The ids of a family's children."""
        stmt = select(FamilyChild.child_id).where(FamilyChild.family_id == family_id)
        return list((await self.session.execute(stmt)).scalars().all())

    async def authorized_persons(self, child_id: int) -> Sequence[AuthorizedPerson]:
        """The persons allowed to pick the child up, by name."""
        stmt = (
            select(AuthorizedPerson)
            .where(AuthorizedPerson.child_id == child_id)
            .order_by(AuthorizedPerson.last_name, AuthorizedPerson.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def authorized_person(self, child_id: int, person_id: int) -> AuthorizedPerson | None:
        """One authorised person of a child (None when it is someone else's)."""
        stmt = select(AuthorizedPerson).where(AuthorizedPerson.id == person_id, AuthorizedPerson.child_id == child_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def vaccinations(self, child_id: int) -> Sequence[Vaccination]:
        """The child's vaccinations, oldest first."""
        stmt = select(Vaccination).where(Vaccination.child_id == child_id).order_by(Vaccination.given_on, Vaccination.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def health_items(self, child_id: int) -> Sequence[HealthItem]:
        """The child's allergies, illnesses, contra-indications and PAI."""
        stmt = select(HealthItem).where(HealthItem.child_id == child_id).order_by(HealthItem.kind, HealthItem.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def enrolments(self, family_id: int, child_id: int) -> Sequence[Enrolment]:
        """The child's inscriptions billed to this family, services loaded, newest first."""
        stmt = (
            select(Enrolment)
            .where(Enrolment.family_id == family_id, Enrolment.child_id == child_id)
            .options(selectinload(Enrolment.service))
            .order_by(Enrolment.starts_on.desc(), Enrolment.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def service(self, service_id: int) -> Service | None:
        """A service by id."""
        return await self.session.get(Service, service_id)

    def add(self, row: Child | FamilyChild | Guardian | AuthorizedPerson | Vaccination | HealthItem | Enrolment) -> None:
        """Stage a new row."""
        self.session.add(row)

    async def delete(self, row: AuthorizedPerson) -> None:
        """Remove a row."""
        await self.session.delete(row)

    async def flush(self) -> None:
        """Send staged rows so they get their ids."""
        await self.session.flush()


class DocumentRepository:
    """Documents published by staff (Infos/Documents)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, document: Document) -> None:
        """Stage a new document."""
        self.session.add(document)

    async def get(self, document_id: int) -> Document | None:
        """A document by id, withdrawn or not."""
        return await self.session.get(Document, document_id)

    async def published(self) -> Sequence[Document]:
        """Documents not withdrawn, newest first."""
        stmt = select(Document).where(Document.withdrawn_at.is_(None)).order_by(Document.published_at.desc(), Document.id.desc())
        return (await self.session.execute(stmt)).scalars().all()

    async def by_file(self, telegram_file_id: str) -> Document | None:
        """A published document with this file, if any (publishing twice is once)."""
        stmt = select(Document).where(Document.telegram_file_id == telegram_file_id, Document.withdrawn_at.is_(None))
        return (await self.session.execute(stmt)).scalars().first()


class ExportRepository:
    """Every row held about one family, table by table (the family's right of access).

    Generic over the schema: a table with a `family_id` column gives the family's rows; a
    table with a `child_id` column but no `family_id` gives its children's rows, unless it
    hangs off a family table by a foreign key (invoice lines, day entry events); accounts
    linked to the family give their Telegram rows. So a new table is exported without code.
    """

    REDACTED_COLUMNS = {"invites": {"code_hash"}}

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rows_of_family(self, family_id: int) -> dict[str, list[dict[str, Any]]]:
        """Table name -> rows (column -> value) of everything about the family."""
        child_ids = list(
            (await self.session.execute(select(FamilyChild.child_id).where(FamilyChild.family_id == family_id))).scalars()
        )
        user_ids = list(
            (
                await self.session.execute(
                    select(TelegramLink.telegram_user_id).where(TelegramLink.family_id == family_id).distinct()
                )
            ).scalars()
        )
        tables = Base.metadata.sorted_tables
        selected: dict[str, Any] = {}
        for table in tables:
            columns = table.c
            if table.name == "families":
                selected[table.name] = columns.id == family_id
            elif table.name == "children":
                selected[table.name] = columns.id.in_(child_ids)
            elif table.name == "telegram_users":
                selected[table.name] = columns.id.in_(user_ids)
            elif "family_id" in columns:
                selected[table.name] = columns.family_id == family_id
            elif "telegram_user_id" in columns:
                selected[table.name] = columns.telegram_user_id.in_(user_ids)
            elif table.name == "reminder_log":
                selected[table.name] = columns.recipient.in_(user_ids)
            elif table.name == "bot_state":
                selected[table.name] = (columns.kind == "user_data") & columns.key.in_([str(u) for u in user_ids])
        for table in tables:  # tables hanging off a family table, then children's own tables
            if table.name in selected:
                continue
            parent = next(
                (fk for fk in table.foreign_keys if fk.column.table.name in selected and fk.column.table.name not in ("families", "children", "services", "regies", "requests")),
                None,
            )
            if parent is not None:
                parent_table = parent.column.table
                parent_ids = select(parent.column).where(selected[parent_table.name])
                selected[table.name] = parent.parent.in_(parent_ids)
            elif "child_id" in table.c:
                selected[table.name] = table.c.child_id.in_(child_ids)
        result: dict[str, list[dict[str, Any]]] = {}
        for table in tables:
            if table.name not in selected:
                continue
            hidden = self.REDACTED_COLUMNS.get(table.name, set())
            stmt = select(table).where(selected[table.name]).order_by(*table.primary_key.columns)
            rows = (await self.session.execute(stmt)).mappings().all()
            result[table.name] = [{key: value for key, value in row.items() if key not in hidden} for row in rows]
        return result


class StaffDayRepository:
    """What the staff need to run the day: closures, who is expected, allergies."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def closure(self, day: dt.date, service_id: int | None) -> Closure | None:
        """The closure of that day for that service (None: the whole structure), if any."""
        condition = Closure.service_id.is_(None) if service_id is None else Closure.service_id == service_id
        stmt = select(Closure).where(Closure.day == day, condition)
        return (await self.session.execute(stmt)).scalars().first()

    def add_closure(self, closure: Closure) -> None:
        """Stage a closure."""
        self.session.add(closure)

    async def entries_on(
        self, day: dt.date, statuses: frozenset[DayStatus], service_id: int | None = None
    ) -> Sequence[tuple[DayEntry, Child]]:
        """A day's entries in these statuses (of one service, or all) with their child, by name."""
        stmt = (
            select(DayEntry, Child)
            .join(Child, Child.id == DayEntry.child_id)
            .where(DayEntry.day == day, DayEntry.status.in_(statuses))
            .order_by(DayEntry.service_id, Child.last_name, Child.first_name, Child.id)
        )
        if service_id is not None:
            stmt = stmt.where(DayEntry.service_id == service_id)
        return [(entry, child) for entry, child in (await self.session.execute(stmt)).all()]

    def add_event(self, event: DayEntryEvent) -> None:
        """Stage a day entry's history event."""
        self.session.add(event)

    async def health_items(self, child_ids: Sequence[int], kind: HealthItemKind) -> Sequence[HealthItem]:
        """The health items of one kind of these children."""
        if not child_ids:
            return []
        stmt = (
            select(HealthItem)
            .where(HealthItem.child_id.in_(list(child_ids)), HealthItem.kind == kind)
            .order_by(HealthItem.child_id, HealthItem.id)
        )
        return (await self.session.execute(stmt)).scalars().all()


class Repositories:
    """Every repository over one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.families = FamilyRepository(session)
        self.telegram = TelegramRepository(session)
        self.invites = InviteRepository(session)
        self.accounts = AccountRepository(session)
        self.messages = MessageRepository(session)
        self.structure = StructureRepository(session)
        self.audit = AuditRepository(session)
        self.bot_state = BotStateRepository(session)
        self.requests = RequestRepository(session)
        self.staff_day = StaffDayRepository(session)
        self.children = ChildRepository(session)
        self.documents = DocumentRepository(session)
        self.export = ExportRepository(session)
        self.planning = PlanningRepository(session)
