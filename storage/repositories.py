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

from bot.domain.model import MessageDirection, RequestStatus
from storage.models import (
    AuditEntry,
    BotState,
    Child,
    Family,
    FamilyChild,
    Invite,
    Invoice,
    Message,
    Payment,
    Regie,
    Request,
    Service,
    TelegramLink,
    TelegramUser,
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
