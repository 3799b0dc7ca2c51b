"""Repositories: the queries the services need, grouped by aggregate.

Services never write SQL; they call these methods on `uow.repos`. Each repository works on the
unit of work's session and never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import Select, and_, delete, false, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import Label

from bot.domain.account import InvoiceFacts, PaymentFacts, amounts_due, balance
from bot.domain.model import (
    Custody,
    DayStatus,
    HealthItemKind,
    MessageDirection,
    RequestKind,
    RequestStatus,
)
from storage.accounting_repository import AccountingRepository
from storage.attendance_repository import AttendanceRepository
from storage.import_repository import ImportRepository
from storage.invitation_repository import InvitationRepository
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
    InvoiceLine,
    Message,
    Payment,
    Regie,
    ReminderLog,
    ReminderPreference,
    Request,
    Service,
    TelegramLink,
    TelegramUser,
    Vaccination,
    WaitingListEntry,
    utcnow,
)
from storage.outbox_repository import OutboxRepository
from storage.results import rows_changed
from storage.scoping import in_structure, structure_of
from storage.structure_registry import StructureRegistry


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
        user = await self.session.get(TelegramUser, (structure_of(self.session), user_id))
        if user is None:
            user = TelegramUser(id=user_id)
            self.session.add(user)
            await self.session.flush()
        return user

    async def get_user(self, user_id: int) -> TelegramUser | None:
        """The account's row, if it was ever seen."""
        return await self.session.get(TelegramUser, (structure_of(self.session), user_id))

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
        return rows_changed(await self.session.execute(stmt))

    async def recipients_of_family(self, family_id: int) -> Sequence[tuple[int, str | None]]:
        """(account id, stored language) of every account currently linked to a family."""
        stmt = (
            select(TelegramLink.telegram_user_id, _language_of_user())
            .join(TelegramUser, TelegramUser.id == TelegramLink.telegram_user_id)
            .where(TelegramLink.family_id == family_id, TelegramLink.revoked_at.is_(None))
            .order_by(TelegramLink.id)
        )
        return [
            (user_id, language) for user_id, language in (await self.session.execute(stmt)).all()
        ]

    async def all_recipients(self) -> Sequence[tuple[int, int, str | None]]:
        """(family id, account id, stored language) of every active link, family by family."""
        stmt = (
            select(TelegramLink.family_id, TelegramLink.telegram_user_id, _language_of_user())
            .join(TelegramUser, TelegramUser.id == TelegramLink.telegram_user_id)
            .where(TelegramLink.revoked_at.is_(None))
            .order_by(TelegramLink.family_id, TelegramLink.id)
        )
        return [
            (family_id, user_id, language)
            for family_id, user_id, language in (await self.session.execute(stmt)).all()
        ]

    async def get_link(self, link_id: int) -> TelegramLink | None:
        """A link by id, whatever its state."""
        return await self.session.get(TelegramLink, link_id)

    async def links_of_family_with_users(
        self, family_id: int
    ) -> Sequence[tuple[TelegramLink, TelegramUser]]:
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
                .where(
                    TelegramUser.id.in_(list(user_ids)), TelegramUser.unreachable_since.is_(None)
                )
                .values(unreachable_since=since)
            )
            await self.session.execute(stmt)

    async def mark_reachable(self, user_ids: Sequence[int]) -> None:
        """Forget that these accounts were unreachable (a message got through)."""
        if user_ids:
            stmt = (
                update(TelegramUser)
                .where(
                    TelegramUser.id.in_(list(user_ids)), TelegramUser.unreachable_since.is_not(None)
                )
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


@dataclass(frozen=True)
class AccountPosition:
    """Where a family's account stands: its balance and the invoices still to pay."""

    balance: Decimal
    unpaid: tuple[UnpaidInvoice, ...]


def invoice_facts(invoice: Invoice) -> InvoiceFacts:
    """An invoice as `bot.domain.account` sees it (its régie loaded)."""
    return InvoiceFacts(
        id=invoice.id,
        number=invoice.number,
        regie=invoice.regie.name,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        total=invoice.total,
    )


def payment_facts(payment: Payment) -> PaymentFacts:
    """A payment as `bot.domain.account` sees it (its régie loaded)."""
    return PaymentFacts(
        id=payment.id,
        number=payment.number,
        regie=payment.regie.name,
        paid_on=payment.paid_on,
        method=payment.method,
        amount=payment.amount,
        invoice_id=payment.invoice_id,
    )


class AccountRepository:
    """Invoices and payments of a family."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def balance(self, family_id: int) -> Decimal:
        """What the family owes: invoiced minus paid (negative when in credit)."""
        return (await self.position(family_id)).balance

    async def unpaid_invoices(self, family_id: int) -> list[UnpaidInvoice]:
        """Invoices not fully paid, oldest due date first (see `position`)."""
        return list((await self.position(family_id)).unpaid)

    async def position(self, family_id: int) -> AccountPosition:
        """The balance and the invoices not fully paid, from one read of the account.

        What each payment paid follows `bot.domain.account.allocate_payments`: a payment for
        no invoice, or beyond what its invoice asked, pays the oldest unpaid invoices.
        """
        invoices = await self.invoices_of_family(family_id)
        invoiced = [invoice_facts(i) for i in invoices]
        payments = [payment_facts(p) for p in await self.payments_of_family(family_id)]
        due = amounts_due(invoiced, payments)
        unpaid = [
            UnpaidInvoice(invoice, invoice.total - due[invoice.id])
            for invoice in invoices
            if due[invoice.id] > 0
        ]
        return AccountPosition(
            balance=balance(invoiced, payments),
            unpaid=tuple(sorted(unpaid, key=lambda item: (item.invoice.due_on, item.invoice.id))),
        )

    def add(self, row: Invoice | Payment) -> None:
        """Stage an invoice or a payment."""
        self.session.add(row)

    # --- money (issue 6): invoices, payments, numbering, billing inputs, invoice notices ---

    async def invoices_of_family(self, family_id: int) -> Sequence[Invoice]:
        """Every invoice of a family with its régie, oldest first."""
        stmt = (
            select(Invoice)
            .where(Invoice.family_id == family_id)
            .options(selectinload(Invoice.regie))
            .order_by(Invoice.issued_on, Invoice.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def payments_of_family(self, family_id: int) -> Sequence[Payment]:
        """Every payment of a family with its régie, oldest first."""
        stmt = (
            select(Payment)
            .where(Payment.family_id == family_id)
            .options(selectinload(Payment.regie))
            .order_by(Payment.paid_on, Payment.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def invoice_lines_of_family(self, family_id: int) -> Sequence[InvoiceLine]:
        """Every line of a family's invoices."""
        stmt = (
            select(InvoiceLine)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.family_id == family_id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def get_invoice(self, invoice_id: int) -> Invoice | None:
        """An invoice with its régie and lines."""
        stmt = (
            select(Invoice)
            .where(Invoice.id == invoice_id)
            .options(selectinload(Invoice.regie), selectinload(Invoice.lines))
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def invoice_by_number(self, number: str) -> Invoice | None:
        """An invoice by its number ("AL-36"), whatever the case typed."""
        stmt = select(Invoice).where(func.upper(Invoice.number) == number.strip().upper())
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def invoice_exists(self, family_id: int, regie_id: int, period_start: dt.date) -> bool:
        """Whether the family already has the régie's invoice for the period."""
        stmt = select(Invoice.id).where(
            Invoice.family_id == family_id,
            Invoice.regie_id == regie_id,
            Invoice.period_start == period_start,
        )
        return (await self.session.execute(stmt)).first() is not None

    async def payment_by_charge_id(self, charge_id: str) -> Payment | None:
        """The payment recorded for a Telegram Payments charge, if any."""
        stmt = select(Payment).where(Payment.telegram_charge_id == charge_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def payment_by_number(self, number: str) -> Payment | None:
        """The payment with this number ("AL-228"), if any."""
        stmt = select(Payment).where(Payment.number == number.strip().upper())
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def payment_by_reference(self, reference: str) -> Payment | None:
        """The payment recorded with this reference, if any."""
        stmt = select(Payment).where(Payment.reference == reference).limit(1)
        return (await self.session.execute(stmt)).scalars().first()

    async def regies_for_update(self) -> Sequence[Regie]:
        """Every régie, locked until the end of the transaction (PostgreSQL; SQLite locks at BEGIN)."""
        stmt = select(Regie).order_by(Regie.id).with_for_update()
        return (await self.session.execute(stmt)).scalars().all()

    async def next_invoice_number(self, regie_id: int) -> int:
        """Take the régie's next invoice number: one atomic UPDATE … RETURNING, never reused."""
        stmt = (
            update(Regie)
            .where(Regie.id == regie_id)
            .values(next_invoice_number=Regie.next_invoice_number + 1)
            .returning(Regie.next_invoice_number)
        )
        return int((await self.session.execute(stmt)).scalar_one()) - 1

    async def next_payment_number(self, regie_id: int) -> int:
        """Take the régie's next payment number: one atomic UPDATE … RETURNING, never reused."""
        stmt = (
            update(Regie)
            .where(Regie.id == regie_id)
            .values(next_payment_number=Regie.next_payment_number + 1)
            .returning(Regie.next_payment_number)
        )
        return int((await self.session.execute(stmt)).scalar_one()) - 1

    async def day_entries_between(self, first: dt.date, last: dt.date) -> Sequence[DayEntry]:
        """Every family's day entries from `first` to `last` (both included)."""
        stmt = (
            select(DayEntry)
            .where(DayEntry.day >= first, DayEntry.day <= last)
            .order_by(DayEntry.family_id, DayEntry.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def closures_between(
        self, first: dt.date, last: dt.date
    ) -> list[tuple[dt.date, str | None, str]]:
        """Closures from `first` to `last`: (day, service code or None for all, reason)."""
        stmt = (
            select(Closure.day, Service.code, Closure.reason)
            .outerjoin(Service, Service.id == Closure.service_id)
            .where(Closure.day >= first, Closure.day <= last)
        )
        return [
            (day, code, reason) for day, code, reason in (await self.session.execute(stmt)).all()
        ]

    async def children_by_ids(self, ids: Sequence[int]) -> Sequence[Child]:
        """Children by id."""
        if not ids:
            return []
        return (await self.session.execute(select(Child).where(Child.id.in_(ids)))).scalars().all()


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
        self,
        family_id: int,
        *,
        direction: MessageDirection | None,
        deleted: bool,
        limit: int,
        offset: int = 0,
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

    async def count_of_family(
        self, family_id: int, *, direction: MessageDirection | None, deleted: bool
    ) -> int:
        """How many messages `of_family` would list in all."""
        stmt = select(func.count(Message.id)).where(self._box(family_id, direction, deleted))
        return (await self.session.execute(stmt)).scalar_one()

    async def replies_to(self, message_id: int) -> Sequence[Message]:
        """The messages answering one message, oldest first."""
        stmt = (
            select(Message)
            .where(Message.reply_to_id == message_id)
            .order_by(Message.created_at, Message.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def by_admin_message(self, admin_message_id: int) -> Message | None:
        """The family's message shown in the admin group as this message."""
        stmt = (
            select(Message)
            .where(
                Message.admin_message_id == admin_message_id,
                Message.direction == MessageDirection.FROM_FAMILY,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

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
        return (
            await self.session.execute(select(Regie).where(Regie.code == code))
        ).scalar_one_or_none()

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

    async def count_since(
        self, *, action: str, outcome: str, actor_telegram_id: int, since: dt.datetime
    ) -> int:
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
        return dict((await self.session.execute(stmt)).tuples().all())

    async def save(self, kind: str, key: str, data: Any) -> None:
        """Insert or replace one key."""
        row = await self.session.get(BotState, (structure_of(self.session), kind, key))
        if row is None:
            self.session.add(BotState(kind=kind, key=key, data=data, updated_at=utcnow()))
        else:
            row.data = data
            row.updated_at = utcnow()

    async def remove(self, kind: str, key: str) -> None:
        """Delete one key, if present."""
        await self.session.execute(
            delete(BotState).where(BotState.kind == kind, BotState.key == key)
        )

    async def load_keys(
        self, kinds: Sequence[str], keys: Sequence[str]
    ) -> dict[tuple[str, str], Any]:
        """The rows of these kinds with one of these keys, in one SELECT (the primary key's
        index answers it); the caller picks the (kind, key) pairs it asked for."""
        stmt = select(BotState.kind, BotState.key, BotState.data).where(
            BotState.kind.in_(kinds), BotState.key.in_(keys)
        )
        return {(kind, key): data for kind, key, data in (await self.session.execute(stmt)).all()}

    async def write_keys(
        self, rows: Sequence[tuple[str, str, Any]], removed: Sequence[tuple[str, str]]
    ) -> None:
        """Upsert `rows` (kind, key, data) in one statement and delete `removed` in another."""
        if rows:
            dialect = self.session.bind.dialect.name if self.session.bind is not None else ""
            insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            now, structure_id = utcnow(), structure_of(self.session)
            stmt = insert(BotState).values(
                [
                    {
                        "structure_id": structure_id,
                        "kind": k,
                        "key": key,
                        "data": data,
                        "updated_at": now,
                    }
                    for k, key, data in rows
                ]
            )
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[BotState.structure_id, BotState.kind, BotState.key],
                    set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at},
                )
            )
        if removed:
            await self.session.execute(
                delete(BotState).where(
                    or_(*(and_(BotState.kind == k, BotState.key == key) for k, key in removed))
                )
            )


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

    async def pending_of_kind_before(
        self, kind: RequestKind, created_before: dt.datetime
    ) -> Sequence[Request]:
        """Pending requests of a kind created before an instant, oldest first."""
        stmt = (
            select(Request)
            .where(
                Request.status == RequestStatus.PENDING,
                Request.kind == kind,
                Request.created_at < created_before,
            )
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

    async def pending_of_family(self, family_id: int) -> Sequence[Request]:
        """A family's pending requests, whatever their age, oldest first."""
        stmt = (
            select(Request)
            .where(Request.family_id == family_id, Request.status == RequestStatus.PENDING)
            .order_by(Request.created_at, Request.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def set_admin_message(self, request_ids: Sequence[int], message_id: int) -> None:
        """Remember the admin group message showing these requests."""
        if request_ids:
            stmt = (
                update(Request)
                .where(Request.id.in_(list(request_ids)))
                .values(admin_message_id=message_id)
            )
            await self.session.execute(stmt)

    async def pending_among(self, request_ids: Sequence[int]) -> Sequence[Request]:
        """Among these requests, the ones still pending."""
        if not request_ids:
            return []
        stmt = select(Request).where(
            Request.id.in_(list(request_ids)), Request.status == RequestStatus.PENDING
        )
        return (await self.session.execute(stmt)).scalars().all()


class PlanningRepository:
    """Day entries, enrolments, closures, booking windows and the waiting list."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def closures_between(
        self, first: dt.date, last: dt.date
    ) -> Sequence[tuple[Closure, str | None]]:
        """Closures of the period with the code of the closed service (None: all services)."""
        stmt = (
            select(Closure, Service.code)
            .outerjoin(Service, Service.id == Closure.service_id)
            .where(Closure.day >= first, Closure.day <= last)
        )
        return [(closure, code) for closure, code in (await self.session.execute(stmt)).all()]

    async def booking_window(self, service_id: int, period_start: dt.date) -> BookingWindow | None:
        """The window of one service's holiday period, if set."""
        stmt = select(BookingWindow).where(
            BookingWindow.service_id == service_id, BookingWindow.period_starts_on == period_start
        )
        return (await self.session.execute(stmt)).scalars().first()

    def add_window(self, window: BookingWindow) -> None:
        """Stage a new booking window."""
        self.session.add(window)

    async def booking_windows(self) -> Sequence[tuple[BookingWindow, str]]:
        """Every holiday booking window with its service's code."""
        stmt = select(BookingWindow, Service.code).join(
            Service, Service.id == BookingWindow.service_id
        )
        return [(window, code) for window, code in (await self.session.execute(stmt)).all()]

    async def family_link(self, family_id: int, child_id: int) -> FamilyChild | None:
        """The child's link to the family, with its custody (garde alternée)."""
        stmt = select(FamilyChild).where(
            FamilyChild.family_id == family_id, FamilyChild.child_id == child_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def enrolments(
        self, family_id: int, child_id: int, first: dt.date, last: dt.date
    ) -> Sequence[Enrolment]:
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
        stmt = select(DayEntry).where(
            DayEntry.child_id == child_id, DayEntry.day >= first, DayEntry.day <= last
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def entry(self, child_id: int, service_id: int, day: dt.date) -> DayEntry | None:
        """One child's entry for a service and day."""
        stmt = select(DayEntry).where(
            DayEntry.child_id == child_id, DayEntry.service_id == service_id, DayEntry.day == day
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def lock_service(self, service_id: int) -> None:
        """Serialise capacity checks of a service (row lock on PostgreSQL; SQLite locks at BEGIN)."""
        await self.session.execute(
            select(Service.id).where(Service.id == service_id).with_for_update()
        )

    async def places_taken(
        self, service_id: int, day: dt.date, statuses: frozenset[DayStatus]
    ) -> int:
        """How many children hold a place on a service's day."""
        stmt = select(func.count(DayEntry.id)).where(
            DayEntry.service_id == service_id, DayEntry.day == day, DayEntry.status.in_(statuses)
        )
        return (await self.session.execute(stmt)).scalar_one()

    async def waiting_days(
        self, child_id: int, first: dt.date, last: dt.date
    ) -> Sequence[WaitingListEntry]:
        """The child's waiting-list entries over a period."""
        stmt = select(WaitingListEntry).where(
            WaitingListEntry.child_id == child_id,
            WaitingListEntry.day >= first,
            WaitingListEntry.day <= last,
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

    async def waiting_entry(
        self, child_id: int, service_id: int, day: dt.date
    ) -> WaitingListEntry | None:
        """The child's place on a day's waiting list, if any."""
        stmt = select(WaitingListEntry).where(
            WaitingListEntry.child_id == child_id,
            WaitingListEntry.service_id == service_id,
            WaitingListEntry.day == day,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def entries_of_request(self, request_id: int) -> Sequence[DayEntry]:
        """The day entries a booking or absence request created or changed."""
        stmt = select(DayEntry).where(DayEntry.request_id == request_id)
        return (await self.session.execute(stmt)).scalars().all()

    async def history(self, entry_id: int) -> Sequence[DayEntryEvent]:
        """The events of a day entry, oldest first."""
        stmt = (
            select(DayEntryEvent)
            .where(DayEntryEvent.day_entry_id == entry_id)
            .order_by(DayEntryEvent.id)
        )
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
        stmt = select(AuthorizedPerson).where(
            AuthorizedPerson.id == person_id, AuthorizedPerson.child_id == child_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def vaccinations(self, child_id: int) -> Sequence[Vaccination]:
        """The child's vaccinations, oldest first."""
        stmt = (
            select(Vaccination)
            .where(Vaccination.child_id == child_id)
            .order_by(Vaccination.given_on, Vaccination.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def health_items(self, child_id: int) -> Sequence[HealthItem]:
        """The child's allergies, illnesses, contra-indications and PAI."""
        stmt = (
            select(HealthItem)
            .where(HealthItem.child_id == child_id)
            .order_by(HealthItem.kind, HealthItem.id)
        )
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

    def add(
        self,
        row: Child
        | FamilyChild
        | Guardian
        | AuthorizedPerson
        | Vaccination
        | HealthItem
        | Enrolment,
    ) -> None:
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
        stmt = (
            select(Document)
            .where(Document.withdrawn_at.is_(None))
            .order_by(Document.published_at.desc(), Document.id.desc())
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def by_file(self, telegram_file_id: str) -> Document | None:
        """A published document with this file, if any (publishing twice is once)."""
        stmt = select(Document).where(
            Document.telegram_file_id == telegram_file_id, Document.withdrawn_at.is_(None)
        )
        return (await self.session.execute(stmt)).scalars().first()


class ExportRepository:
    """Every row held about one family, table by table (the family's right of access).

    Generic over the schema: a table with a `family_id` column gives the family's rows; a
    table with a `child_id` column but no `family_id` gives its children's rows, unless it
    hangs off a family table by a foreign key (invoice lines, day entry events); accounts
    linked to the family give their Telegram rows. So a new table is exported without code.
    """

    REDACTED_COLUMNS: ClassVar[Mapping[str, frozenset[str]]] = {"invites": frozenset({"code_hash"})}

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rows_of_family(self, family_id: int) -> dict[str, list[dict[str, Any]]]:
        """Table name -> rows (column -> value) of everything about the family."""
        child_ids = list(
            (
                await self.session.execute(
                    select(FamilyChild.child_id).where(FamilyChild.family_id == family_id)
                )
            ).scalars()
        )
        links = (
            await self.session.execute(
                select(
                    TelegramLink.telegram_user_id, TelegramLink.linked_at, TelegramLink.revoked_at
                ).where(TelegramLink.family_id == family_id)
            )
        ).all()
        user_ids = sorted({user_id for user_id, _at, _until in links})  # every account ever linked
        # An account's own rows (no family_id) belong to the family only while it was linked to
        # it: its current ones when it is still linked, its dated ones within its link periods.
        current_ids = sorted({user_id for user_id, _at, until in links if until is None})
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
                selected[table.name] = columns.telegram_user_id.in_(current_ids)
            elif table.name == "reminder_log":
                selected[table.name] = or_(
                    false(),
                    *(
                        and_(
                            columns.recipient == user_id,
                            columns.created_at >= at,
                            true() if until is None else columns.created_at < until,
                        )
                        for user_id, at, until in links
                    ),
                )
            elif table.name == "bot_state":
                selected[table.name] = (columns.kind == "user_data") & columns.key.in_(
                    [str(u) for u in current_ids]
                )
        for table in tables:  # tables hanging off a family table, then children's own tables
            if table.name in selected:
                continue
            parent = next(
                (
                    fk
                    for fk in table.foreign_keys
                    if fk.column.table.name in selected
                    and fk.column.table.name
                    not in ("families", "children", "services", "regies", "requests")
                ),
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
            hidden = self.REDACTED_COLUMNS.get(table.name, frozenset())
            stmt = select(table).where(selected[table.name]).order_by(*table.primary_key.columns)
            if "structure_id" in table.c:  # a Core SELECT of a Table: storage.scoping adds nothing
                stmt = stmt.where(table.c.structure_id == structure_of(self.session))
            rows = (await self.session.execute(stmt)).mappings().all()
            result[table.name] = [
                {key: value for key, value in row.items() if key not in hidden} for row in rows
            ]
        return result


class StaffDayRepository:
    """What the staff need to run the day: closures, who is expected, allergies."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def closure(self, day: dt.date, service_id: int | None) -> Closure | None:
        """The closure of that day for that service (None: the whole structure), if any."""
        condition = (
            Closure.service_id.is_(None) if service_id is None else Closure.service_id == service_id
        )
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

    async def health_items(
        self, child_ids: Sequence[int], kind: HealthItemKind
    ) -> Sequence[HealthItem]:
        """The health items of one kind of these children."""
        if not child_ids:
            return []
        stmt = (
            select(HealthItem)
            .where(HealthItem.child_id.in_(list(child_ids)), HealthItem.kind == kind)
            .order_by(HealthItem.child_id, HealthItem.id)
        )
        return (await self.session.execute(stmt)).scalars().all()


def _language_of_user() -> Label[str | None]:
    """The language to write to an account in: its /langue choice, else its app's language."""
    return func.coalesce(TelegramUser.language, TelegramUser.app_language).label("language")


class ReminderRepository:
    """Who is to be reminded, and the log that makes each reminder sent once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, keys: Sequence[tuple[str, int, str]], now: dt.datetime
    ) -> dict[tuple[str, int, str], int]:
        """Record reminders about to be sent; return the ids of those not recorded before.

        One INSERT … ON CONFLICT DO NOTHING RETURNING on the unique (kind, recipient, subject):
        two processes can never both claim the same reminder, on SQLite and PostgreSQL.
        """
        if not keys:
            return {}
        rows = [
            {"kind": kind, "recipient": recipient, "subject": subject, "created_at": now}
            for kind, recipient, subject in keys
        ]
        dialect = self.session.bind.dialect.name if self.session.bind is not None else ""
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(ReminderLog)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(ReminderLog.id, ReminderLog.kind, ReminderLog.recipient, ReminderLog.subject)
        )
        result = await self.session.execute(stmt)
        return {
            (kind, recipient, subject): log_id for log_id, kind, recipient, subject in result.all()
        }

    async def mark_sent(self, log_ids: Sequence[int], now: dt.datetime) -> None:
        """These reminders reached Telegram."""
        await self.session.execute(
            update(ReminderLog).where(ReminderLog.id.in_(list(log_ids))).values(sent_at=now)
        )

    async def logged(self, kind: str, subjects: Sequence[str]) -> set[tuple[int, str]]:
        """(recipient, subject) pairs already recorded for these subjects."""
        if not subjects:
            return set()
        stmt = select(ReminderLog.recipient, ReminderLog.subject).where(
            ReminderLog.kind == kind, ReminderLog.subject.in_(list(subjects))
        )
        return {
            (recipient, subject) for recipient, subject in (await self.session.execute(stmt)).all()
        }

    def _linked_accounts(self, kind: str) -> Select[tuple[int, int, str | None]]:
        """Active links of reachable accounts that did not turn this kind of reminder off."""
        opted_out = (
            select(ReminderPreference.telegram_user_id)
            .where(
                in_structure(self.session, ReminderPreference),
                ReminderPreference.kind == kind,
                ReminderPreference.enabled.is_(False),
            )
            .scalar_subquery()
        )
        return (
            select(TelegramLink.family_id, TelegramLink.telegram_user_id, _language_of_user())
            .join(TelegramUser, TelegramUser.id == TelegramLink.telegram_user_id)
            .where(
                in_structure(self.session, TelegramLink),
                TelegramLink.revoked_at.is_(None),
                TelegramUser.unreachable_since.is_(None),
                TelegramLink.telegram_user_id.not_in(opted_out),
            )
        )

    async def unbooked_enrolled(
        self,
        kind: str,
        service_id: int,
        first: dt.date,
        last: dt.date,
        holding: frozenset[DayStatus],
    ) -> Sequence[tuple[int, str | None, int, int, str, Custody, dt.date | None]]:
        """(account, language, family, child, first name, custody, custody reference) for each
        child enrolled in the service over the period with no place held on any of its days."""
        booked = (
            select(DayEntry.id)
            .where(
                in_structure(self.session, DayEntry),
                DayEntry.child_id == Enrolment.child_id,
                DayEntry.service_id == service_id,
                DayEntry.day >= first,
                DayEntry.day <= last,
                DayEntry.status.in_(holding),
            )
            .exists()
        )
        links = self._linked_accounts(kind).subquery()
        stmt = (
            select(
                links.c.telegram_user_id,
                links.c.language,
                Enrolment.family_id,
                Child.id,
                Child.first_name,
                FamilyChild.custody,
                FamilyChild.custody_reference_monday,
            )
            .join(links, links.c.family_id == Enrolment.family_id)
            .join(Child, Child.id == Enrolment.child_id)
            .join(
                FamilyChild,
                (FamilyChild.child_id == Enrolment.child_id)
                & (FamilyChild.family_id == Enrolment.family_id),
            )
            .where(
                Enrolment.service_id == service_id,
                Enrolment.starts_on <= last,
                (Enrolment.ends_on.is_(None)) | (Enrolment.ends_on >= first),
                ~booked,
            )
            .order_by(links.c.telegram_user_id, Child.first_name)
        )
        return [tuple(row) for row in (await self.session.execute(stmt)).all()]

    async def enrolled_accounts(
        self, kind: str, service_id: int, first: dt.date, last: dt.date
    ) -> Sequence[tuple[int, str | None, int]]:
        """(account, language, family) of families with a child enrolled in the service."""
        links = self._linked_accounts(kind).subquery()
        stmt = (
            select(links.c.telegram_user_id, links.c.language, links.c.family_id)
            .join(Enrolment, Enrolment.family_id == links.c.family_id)
            .where(
                Enrolment.service_id == service_id,
                Enrolment.starts_on <= last,
                (Enrolment.ends_on.is_(None)) | (Enrolment.ends_on >= first),
            )
            .distinct()
        )
        return [tuple(row) for row in (await self.session.execute(stmt)).all()]

    async def accounts_of_families(
        self, kind: str, family_ids: Sequence[int]
    ) -> Sequence[tuple[int, str | None, int]]:
        """(account, language, family) of the given families."""
        if not family_ids:
            return []
        links = self._linked_accounts(kind).where(TelegramLink.family_id.in_(list(family_ids)))
        return [
            (user_id, language, family_id)
            for family_id, user_id, language in (await self.session.execute(links)).all()
        ]

    async def invoices_due_between(
        self, first: dt.date, last: dt.date
    ) -> Sequence[tuple[Invoice, Decimal]]:
        """Invoices due in the period with what remains to pay (unpaid ones only).

        What remains follows `bot.domain.account.amounts_due` over each family's whole account,
        so a payment recorded for no invoice pays the oldest invoices here too.
        """
        stmt = (
            select(Invoice)
            .where(Invoice.due_on >= first, Invoice.due_on <= last)
            .order_by(Invoice.due_on, Invoice.id)
        )
        invoices = (await self.session.execute(stmt)).scalars().all()
        accounts = AccountRepository(self.session)
        due: dict[int, Decimal] = {}
        for family_id in sorted({invoice.family_id for invoice in invoices}):
            due |= amounts_due(
                [invoice_facts(i) for i in await accounts.invoices_of_family(family_id)],
                [payment_facts(p) for p in await accounts.payments_of_family(family_id)],
            )
        return [
            (invoice, due[invoice.id])
            for invoice in invoices
            if due.get(invoice.id, Decimal("0.00")) > 0
        ]

    async def boosters_between(
        self, first: dt.date, last: dt.date
    ) -> Sequence[tuple[Vaccination, Child, int]]:
        """(vaccination, child, family) for booster dates in the period, per family of the child."""
        stmt = (
            select(Vaccination, Child, FamilyChild.family_id)
            .join(Child, Child.id == Vaccination.child_id)
            .join(FamilyChild, FamilyChild.child_id == Child.id)
            .where(Vaccination.booster_on >= first, Vaccination.booster_on <= last)
        )
        return [tuple(row) for row in (await self.session.execute(stmt)).all()]

    async def preferences(self, user_id: int) -> dict[str, bool]:
        """The user's stored choices (kinds not listed are on)."""
        stmt = select(ReminderPreference.kind, ReminderPreference.enabled).where(
            ReminderPreference.telegram_user_id == user_id
        )
        return dict((await self.session.execute(stmt)).tuples().all())

    async def opted_out(self, kind: str) -> set[int]:
        """The accounts that turned this kind of reminder off (e.g. one service's, "booking:cantine")."""
        stmt = select(ReminderPreference.telegram_user_id).where(
            ReminderPreference.kind == kind, ReminderPreference.enabled.is_(False)
        )
        return set((await self.session.execute(stmt)).scalars().all())

    async def set_preference(self, user_id: int, kind: str, enabled: bool) -> None:
        """Turn one kind of reminder on or off for the user."""
        row = await self.session.get(
            ReminderPreference, (structure_of(self.session), user_id, kind)
        )
        if row is None:
            self.session.add(
                ReminderPreference(telegram_user_id=user_id, kind=kind, enabled=enabled)
            )
        else:
            row.enabled = enabled


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
        self.reminders = ReminderRepository(session)
        self.outbox = OutboxRepository(session)
        self.imports = ImportRepository(session)
        self.invitations = InvitationRepository(session)
        self.accounting = AccountingRepository(session)
        self.attendance = AttendanceRepository(session)
        self.registry = StructureRegistry(session)
