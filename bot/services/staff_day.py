"""Running the day from the admin group: closures, headcounts, a family's fiche, unlinking.

Plain results only; the staff dialogues turn them into French and files.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bot.domain.model import (
    EXPECTED_STATUSES,
    PLACE_HOLDING_STATUSES,
    DayStatus,
    GuardianRole,
    HealthItemKind,
    RequestStatus,
)
from bot.services.home import display_name
from bot.services.inbox import store_structure_message
from bot.services.notifications import Recipient, family_recipients
from storage.db import UnitOfWork
from storage.models import Child, Closure, DayEntryEvent, Family, Guardian, Request, TelegramLink, TelegramUser

ACTION_CLOSE_DAY = "closure.create"
ACTION_REVOKE_LINK = "telegram_link.revoke"
CLOSURE_SUBJECT = "closure"


class ClosureOutcome(StrEnum):
    """What became of a closure."""

    CLOSED = "closed"
    ALREADY_CLOSED = "already_closed"
    UNKNOWN_SERVICE = "unknown_service"
    PAST_DAY = "past_day"


@dataclass(frozen=True)
class CancelledBooking:
    """A child's booking a closure cancelled."""

    child_name: str
    service_name: str


@dataclass(frozen=True)
class FamilyNotice:
    """One family to tell about a closure: their cancelled bookings and linked accounts."""

    family_id: int
    bookings: tuple[CancelledBooking, ...]
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True)
class ClosureResult:
    """Outcome of `/fermeture`."""

    outcome: ClosureOutcome
    day: dt.date
    service_name: str | None = None
    cancelled: int = 0
    cancelled_requests: int = 0
    notices: tuple[FamilyNotice, ...] = ()


@dataclass(frozen=True)
class ExpectedChild:
    """A child expected on the day, with what the staff must know at the table."""

    last_name: str
    first_name: str
    school: str | None
    class_name: str | None
    status: DayStatus
    allergies: tuple[str, ...]


@dataclass(frozen=True)
class ServiceHeadcount:
    """The children expected at one service."""

    code: str
    name: str
    children: tuple[ExpectedChild, ...]

    @property
    def count(self) -> int:
        """The headcount."""
        return len(self.children)

    @property
    def with_allergies(self) -> tuple[ExpectedChild, ...]:
        """The children with an allergy on file."""
        return tuple(child for child in self.children if child.allergies)


@dataclass(frozen=True)
class Headcount:
    """The headcount of a day, service by service (every active service, even empty)."""

    day: dt.date
    services: tuple[ServiceHeadcount, ...]
    closed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChildSheet:
    """A child on a family's fiche."""

    child: Child
    allergies: tuple[str, ...]


@dataclass(frozen=True)
class LinkedAccount:
    """A Telegram account linked to the family."""

    link_id: int
    telegram_user_id: int
    linked_at: dt.datetime
    linked_by: str
    unreachable_since: dt.datetime | None


@dataclass(frozen=True)
class FamilySheet:
    """`/famille`: the fiche, children, balance, recent requests and linked accounts."""

    family: Family
    responsable: Guardian | None
    conjoint: Guardian | None
    children: tuple[ChildSheet, ...]
    balance: Decimal
    unpaid_invoices: int
    recent_requests: tuple[Request, ...]
    accounts: tuple[LinkedAccount, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        """"JEAN DUPONT"."""
        return display_name(self.responsable)


@dataclass(frozen=True)
class RevokedLink:
    """A link staff revoked."""

    telegram_user_id: int
    family_id: int
    family_number: str
    language: str | None = None


async def close_day(
    uow: UnitOfWork,
    *,
    day: dt.date,
    service_code: str | None,
    reason: str,
    staff_id: int,
    now: dt.datetime,
    today: dt.date,
    notice_body: str = "",
) -> ClosureResult:
    """Close a day (one service or all): cancel its bookings without charge; idempotent.

    Entries holding a place become CANCELLED (nothing billed) with a history event; requests
    still pending for them are cancelled too. `notice_body` (already in French) is stored in
    the inbox of each family concerned; the caller commits, then tells them.
    """
    if day < today:
        return ClosureResult(ClosureOutcome.PAST_DAY, day)
    service_id, service_name = None, None
    services = {s.id: s for s in await uow.repos.structure.services()}
    if service_code is not None:
        service = next((s for s in services.values() if s.code == service_code), None)
        if service is None:
            return ClosureResult(ClosureOutcome.UNKNOWN_SERVICE, day)
        service_id, service_name = service.id, service.name
    if await uow.repos.staff_day.closure(day, service_id) is not None:
        return ClosureResult(ClosureOutcome.ALREADY_CLOSED, day, service_name)
    uow.repos.staff_day.add_closure(
        Closure(day=day, service_id=service_id, reason=reason[:200], created_at=now, created_by=staff_id)
    )
    note = f"closure: {reason}"[:200]
    bookings: dict[int, list[CancelledBooking]] = defaultdict(list)
    request_ids: set[int] = set()
    entries = await uow.repos.staff_day.entries_on(day, PLACE_HOLDING_STATUSES, service_id)
    for entry, child in entries:
        previous = entry.status
        entry.status = DayStatus.CANCELLED
        entry.updated_at = now
        uow.repos.staff_day.add_event(
            DayEntryEvent(
                day_entry_id=entry.id,
                at=now,
                actor_telegram_id=staff_id,
                actor_kind="staff",
                from_status=previous,
                to_status=DayStatus.CANCELLED,
                request_id=entry.request_id,
                note=note,
            )
        )
        if entry.request_id is not None:
            request_ids.add(entry.request_id)
        service = services.get(entry.service_id)
        bookings[entry.family_id].append(
            CancelledBooking(f"{child.first_name} {child.last_name}", service.name if service else "?")
        )
    pending = await uow.repos.requests.pending_among(sorted(request_ids))
    for request in pending:
        request.status = RequestStatus.CANCELLED
        request.reason = reason[:500]
        request.decided_at = now
        request.decided_by = staff_id
    notices = []
    for family_id, cancelled in sorted(bookings.items()):
        if notice_body:
            await store_structure_message(
                uow, family_id=family_id, staff_id=staff_id, staff_name="", body=notice_body,
                subject=CLOSURE_SUBJECT, now=now,
            )
        notices.append(FamilyNotice(family_id, tuple(cancelled), tuple(await family_recipients(uow, family_id))))
    uow.repos.audit.record(
        action=ACTION_CLOSE_DAY,
        outcome="ok",
        actor_telegram_id=staff_id,
        actor_kind="staff",
        target=f"day:{day.isoformat()}",
        details={
            "service": service_code or "",
            "cancelled": len(entries),
            "families": len(notices),
            "requests": len(pending),
        },
        at=now,
    )
    return ClosureResult(
        ClosureOutcome.CLOSED, day, service_name, len(entries), len(pending), tuple(notices)
    )


async def headcount(uow: UnitOfWork, day: dt.date) -> Headcount:
    """Who is expected on a day, per active service, with allergies on file."""
    services = [s for s in await uow.repos.structure.services() if s.active]
    entries = await uow.repos.staff_day.entries_on(day, EXPECTED_STATUSES)
    child_ids = sorted({child.id for _, child in entries})
    allergies: dict[int, list[str]] = defaultdict(list)
    for item in await uow.repos.staff_day.health_items(child_ids, HealthItemKind.ALLERGY):
        allergies[item.child_id].append(item.description)
    by_service: dict[int, list[ExpectedChild]] = defaultdict(list)
    for entry, child in entries:
        by_service[entry.service_id].append(
            ExpectedChild(
                last_name=child.last_name,
                first_name=child.first_name,
                school=child.school,
                class_name=child.class_name,
                status=entry.status,
                allergies=tuple(allergies.get(child.id, ())),
            )
        )
    closed = []
    for service in services:
        if await uow.repos.staff_day.closure(day, service.id) is not None:
            closed.append(service.code)
    if await uow.repos.staff_day.closure(day, None) is not None:
        closed = [service.code for service in services]
    return Headcount(
        day=day,
        services=tuple(ServiceHeadcount(s.code, s.name, tuple(by_service.get(s.id, ()))) for s in services),
        closed=tuple(closed),
    )


async def family_sheet(uow: UnitOfWork, family_number: str, since: dt.datetime) -> FamilySheet | None:
    """A family's fiche for staff; None when no family has this number."""
    family = await uow.repos.families.get_by_number(family_number)
    if family is None:
        return None
    children = await uow.repos.families.children(family.id)
    allergies: dict[int, list[str]] = defaultdict(list)
    for item in await uow.repos.staff_day.health_items([c.id for c in children], HealthItemKind.ALLERGY):
        allergies[item.child_id].append(item.description)
    links = await uow.repos.telegram.links_of_family_with_users(family.id)
    return FamilySheet(
        family=family,
        responsable=family.guardian(GuardianRole.RESPONSABLE),
        conjoint=family.guardian(GuardianRole.CONJOINT),
        children=tuple(ChildSheet(child, tuple(allergies.get(child.id, ()))) for child in children),
        balance=await uow.repos.accounts.balance(family.id),
        unpaid_invoices=len(await uow.repos.accounts.unpaid_invoices(family.id)),
        recent_requests=tuple(await uow.repos.requests.of_family(family.id, since)),
        accounts=tuple(_account(link, user) for link, user in links),
    )


def _account(link: TelegramLink, user: TelegramUser) -> LinkedAccount:
    return LinkedAccount(link.id, link.telegram_user_id, link.linked_at, link.linked_by, user.unreachable_since)


async def revoke_link(uow: UnitOfWork, link_id: int, *, staff_id: int, now: dt.datetime) -> RevokedLink | None:
    """Unlink one Telegram account from its family; None when the link is unknown or already revoked."""
    link = await uow.repos.telegram.get_link(link_id)
    if link is None or link.revoked_at is not None:
        return None
    link.revoked_at = now
    family = await uow.repos.families.get(link.family_id)
    uow.repos.audit.record(
        action=ACTION_REVOKE_LINK,
        outcome="ok",
        actor_telegram_id=staff_id,
        actor_kind="staff",
        family_id=link.family_id,
        target=f"telegram_link:{link.id}",
        at=now,
    )
    user = await uow.repos.telegram.get_user(link.telegram_user_id)
    return RevokedLink(
        link.telegram_user_id, link.family_id, family.number if family else "?", user.language if user else None
    )
