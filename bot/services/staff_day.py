"""Running the day from the admin group: closures, headcounts, a family's fiche, a day's
history, unlinking an account.

Each public function is one staff use case: it takes the database and the acting staff
member's Telegram id, opens one transaction, writes the staff audit row with the real outcome
in it, and returns a plain result (the staff dialogues turn it into French and files). What
families must hear (a closure, an unlinked account) is written to the outbox in the same
transaction. `headcount(uow, day)` is the building block the reminder job uses too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bot.domain.billing import runs_for_billing
from bot.domain.calendar import Calendar
from bot.domain.model import (
    EXPECTED_STATUSES,
    PLACE_HOLDING_STATUSES,
    DayStatus,
    GuardianRole,
    HealthItemKind,
    RequestStatus,
)
from bot.services.bookings import DayHistory, day_history
from bot.services.home import display_name
from bot.services.inbox import store_structure_message
from bot.services.outbox import tell_account, tell_family, tell_staff
from bot.services.requests import CARD_UPDATE_TEMPLATE
from bot.services.staff_audit import audit_staff
from bot.services.use_case import use_case
from bot.structure import Structure
from storage.db import Database, UnitOfWork
from storage.models import (
    Child,
    Closure,
    DayEntry,
    DayEntryEvent,
    Family,
    Guardian,
    Request,
    TelegramLink,
    TelegramUser,
)

ACTION_CLOSE_DAY = "closure.create"
ACTION_REOPEN_DAY = "closure.reopen"
TEMPLATE_REOPENED = "day.reopened"
"""Told to each family whose bookings a reopening restored: {"day": ISO date, "service": name or
None, "bookings": [[child's name, service's name], ...]}."""
ACTION_REVOKE_LINK = "telegram_link.revoke"
ACTION_HEADCOUNT = "staff.headcount"
ACTION_FAMILY_SHEET = "staff.family"
ACTION_DAY_HISTORY = "staff.day_history"
CLOSURE_SUBJECT = "closure"
TEMPLATE_CLOSURE = "day.closure"
"""Told to each family whose bookings a closure cancelled:
{"day": ISO date, "service": name or None (the whole structure), "reason": str,
"bookings": [[child's name, service's name], ...]}."""
TEMPLATE_UNLINKED = "day.unlinked"
"""Told to the account staff unlinked from its family: {}."""


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
class ClosureResult:
    """Outcome of `/fermeture`: what was cancelled and how many families and accounts are told."""

    outcome: ClosureOutcome
    day: dt.date
    service_name: str | None = None
    cancelled: int = 0
    cancelled_requests: int = 0
    families: int = 0
    accounts: int = 0


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
    pending: int = 0
    """Requests for the day still waiting for staff (not counted in `count`, shown apart)."""

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
        """ "JEAN DUPONT"."""
        return display_name(self.responsable)


@dataclass(frozen=True)
class RevokedLink:
    """A link staff revoked."""

    telegram_user_id: int
    family_id: int
    family_number: str
    language: str | None = None


async def close_day(
    db: Database,
    *,
    day: dt.date,
    service_code: str | None,
    reason: str,
    staff_id: int,
    now: dt.datetime,
    today: dt.date,
    notice_body: str = "",
) -> ClosureResult:
    """Close a day (one service or all): cancel its bookings without charge and tell the families.

    Entries holding a place become CANCELLED (nothing billed) with a history event; requests
    still pending for them are cancelled too (their cards in the admin group are updated).
    `notice_body` (already in French) is stored in the inbox of each family concerned, and
    each of their accounts gets a `TEMPLATE_CLOSURE` message. Closing a day already closed
    changes nothing; a past day or an unknown service is refused (audited as such).
    """
    async with use_case(db) as uow:
        result = await _close_day(uow, day, service_code, reason, staff_id, now, today, notice_body)
        audit_staff(
            uow,
            staff_id,
            ACTION_CLOSE_DAY,
            now=now,
            outcome="ok" if result.outcome == ClosureOutcome.CLOSED else "refused",
            target=f"day:{day.isoformat()}",
            details={
                "service": service_code or "",
                "result": result.outcome.value,
                "cancelled": result.cancelled,
                "families": result.families,
                "requests": result.cancelled_requests,
            },
        )
        return result


async def _close_day(
    uow: UnitOfWork,
    day: dt.date,
    service_code: str | None,
    reason: str,
    staff_id: int,
    now: dt.datetime,
    today: dt.date,
    notice_body: str,
) -> ClosureResult:
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
    closure = Closure(
        day=day, service_id=service_id, reason=reason[:200], created_at=now, created_by=staff_id
    )
    uow.repos.staff_day.add_closure(closure)
    entries = await uow.repos.staff_day.entries_on(day, PLACE_HOLDING_STATUSES, service_id)
    prior = [(entry.id, entry.status, entry.request_id) for entry, _child in entries]
    names = {service.id: service.name for service in services.values()}
    bookings, request_ids = _cancel_entries(
        uow, entries, names, f"closure: {reason}"[:200], staff_id, now
    )
    pending = await uow.repos.requests.pending_among(sorted(request_ids))
    reopened_requests = {request.id for request in pending}
    closure.cancelled = [  # what /reouvrir restores
        {
            "entry": entry_id,
            "status": status.value,
            "request": request_id if request_id in reopened_requests else None,
        }
        for entry_id, status, request_id in prior
    ]
    for request in pending:
        request.status = RequestStatus.CANCELLED
        request.refusal_reason = reason[:500]
        request.decided_at = now
        request.decided_by = staff_id
        await tell_staff(
            uow,
            CARD_UPDATE_TEMPLATE,
            {"request_id": request.id},
            now=now,
            family_id=request.family_id,
        )
    accounts = 0
    for family_id, cancelled in sorted(bookings.items()):
        if notice_body:
            await store_structure_message(
                uow,
                family_id=family_id,
                staff_id=staff_id,
                staff_name="",
                body=notice_body,
                subject=CLOSURE_SUBJECT,
                now=now,
            )
        params = {
            "day": day.isoformat(),
            "service": service_name,
            "reason": reason[:200],
            "bookings": [[booking.child_name, booking.service_name] for booking in cancelled],
        }
        accounts += await tell_family(uow, family_id, TEMPLATE_CLOSURE, params, now=now)
    return ClosureResult(
        ClosureOutcome.CLOSED,
        day,
        service_name,
        len(entries),
        len(pending),
        len(bookings),
        accounts,
    )


def _cancel_entries(
    uow: UnitOfWork,
    entries: Sequence[tuple[DayEntry, Child]],
    service_names: dict[int, str],
    note: str,
    staff_id: int,
    now: dt.datetime,
) -> tuple[dict[int, list[CancelledBooking]], set[int]]:
    """Cancel the entries (with their history): the cancelled bookings by family, and their requests."""
    bookings: dict[int, list[CancelledBooking]] = defaultdict(list)
    request_ids: set[int] = set()
    for entry, child in entries:
        uow.repos.staff_day.add_event(
            DayEntryEvent(
                day_entry_id=entry.id,
                at=now,
                actor_telegram_id=staff_id,
                actor_kind="staff",
                from_status=entry.status,
                to_status=DayStatus.CANCELLED,
                request_id=entry.request_id,
                note=note,
            )
        )
        entry.status = DayStatus.CANCELLED
        entry.updated_at = now
        if entry.request_id is not None:
            request_ids.add(entry.request_id)
        bookings[entry.family_id].append(
            CancelledBooking(
                f"{child.first_name} {child.last_name}", service_names.get(entry.service_id, "?")
            )
        )
    return bookings, request_ids


async def staff_headcount(
    db: Database, day: dt.date, *, staff_id: int, now: dt.datetime
) -> Headcount:
    """`/effectifs`: who is expected on a day, per active service (the look is audited)."""
    async with use_case(db) as uow:
        counted = await headcount(uow, day)
        audit_staff(uow, staff_id, ACTION_HEADCOUNT, now=now, target=f"day:{day.isoformat()}")
        return counted


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
    pending: dict[int, int] = defaultdict(int)
    for entry, _child in await uow.repos.staff_day.entries_on(
        day, frozenset({DayStatus.BOOKING_PROCESSING})
    ):
        pending[entry.service_id] += 1
    closed = []
    for service in services:
        if await uow.repos.staff_day.closure(day, service.id) is not None:
            closed.append(service.code)
    if await uow.repos.staff_day.closure(day, None) is not None:
        closed = [service.code for service in services]
    return Headcount(
        day=day,
        services=tuple(
            ServiceHeadcount(s.code, s.name, tuple(by_service.get(s.id, ())), pending.get(s.id, 0))
            for s in services
        ),
        closed=tuple(closed),
    )


async def family_sheet(
    db: Database, family_number: str, *, since: dt.datetime, staff_id: int, now: dt.datetime
) -> FamilySheet | None:
    """`/famille`: a family's fiche for staff; None when no family has this number (audited)."""
    async with use_case(db) as uow:
        family = await uow.repos.families.get_by_number(family_number)
        if family is None:
            audit_staff(
                uow,
                staff_id,
                ACTION_FAMILY_SHEET,
                now=now,
                outcome="refused",
                target=f"family:{family_number[:40]}",
            )
            return None
        sheet = await _family_sheet(uow, family, since)
        audit_staff(uow, staff_id, ACTION_FAMILY_SHEET, now=now, family_id=family.id)
        return sheet


async def _family_sheet(uow: UnitOfWork, family: Family, since: dt.datetime) -> FamilySheet:
    children = await uow.repos.families.children(family.id)
    allergies: dict[int, list[str]] = defaultdict(list)
    for item in await uow.repos.staff_day.health_items(
        [c.id for c in children], HealthItemKind.ALLERGY
    ):
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


async def staff_day_history(
    db: Database,
    structure: Structure,
    family_number: str,
    day: dt.date,
    *,
    staff_id: int,
    now: dt.datetime,
) -> list[DayHistory] | None:
    """`/historique`: every change of a family's day; None when no family has this number (audited)."""
    async with use_case(db) as uow:
        history = await day_history(uow, structure, family_number, day)
        audit_staff(
            uow,
            staff_id,
            ACTION_DAY_HISTORY,
            now=now,
            outcome="ok" if history is not None else "refused",
            target=f"family:{family_number[:40]}:{day.isoformat()}",
        )
        return history


def _account(link: TelegramLink, user: TelegramUser) -> LinkedAccount:
    return LinkedAccount(
        link.id, link.telegram_user_id, link.linked_at, link.linked_by, user.unreachable_since
    )


async def revoke_link(
    db: Database, link_id: int, *, staff_id: int, now: dt.datetime
) -> RevokedLink | None:
    """Unlink one Telegram account from its family and tell that account; audited.

    None when the link is unknown or already revoked (a double tap changes nothing).
    """
    async with use_case(db) as uow:
        link = await uow.repos.telegram.get_link(link_id)
        if link is None:
            audit_staff(
                uow,
                staff_id,
                ACTION_REVOKE_LINK,
                now=now,
                outcome="refused",
                target=f"telegram_link:{link_id}",
            )
            return None
        if link.revoked_at is not None:
            return None
        link.revoked_at = now
        family = await uow.repos.families.get(link.family_id)
        user = await uow.repos.telegram.get_user(link.telegram_user_id)
        language = user.language if user else None
        await tell_account(
            uow,
            link.telegram_user_id,
            TEMPLATE_UNLINKED,
            now=now,
            language=language,
            family_id=link.family_id,
        )
        audit_staff(
            uow,
            staff_id,
            ACTION_REVOKE_LINK,
            now=now,
            family_id=link.family_id,
            target=f"telegram_link:{link.id}",
        )
        return RevokedLink(
            link.telegram_user_id, link.family_id, family.number if family else "?", language
        )


@dataclass(frozen=True)
class ClosurePreview:
    """What `/fermeture` would do, shown to staff before they confirm."""

    outcome: ClosureOutcome
    day: dt.date
    service_name: str | None = None
    bookings: int = 0
    families: int = 0
    pending_requests: int = 0
    runs: bool = True
    """False when no service concerned runs that day (nothing to close: staff are told)."""


async def preview_closure(
    db: Database, structure: Structure, *, day: dt.date, service_code: str | None, today: dt.date
) -> ClosurePreview:
    """The bookings and families a closure would touch, and whether anything runs that day (read only)."""
    async with use_case(db) as uow:
        if day < today:
            return ClosurePreview(ClosureOutcome.PAST_DAY, day)
        services = {s.id: s for s in await uow.repos.structure.services()}
        service_id, service_name = None, None
        if service_code is not None:
            service = next((s for s in services.values() if s.code == service_code), None)
            if service is None:
                return ClosurePreview(ClosureOutcome.UNKNOWN_SERVICE, day)
            service_id, service_name = service.id, service.name
        if await uow.repos.staff_day.closure(day, service_id) is not None:
            return ClosurePreview(ClosureOutcome.ALREADY_CLOSED, day, service_name)
        entries = await uow.repos.staff_day.entries_on(day, PLACE_HOLDING_STATUSES, service_id)
        pending = await uow.repos.requests.pending_among(
            sorted({e.request_id for e, _c in entries if e.request_id})
        )
        calendar = Calendar(structure.school_holiday_zone, closures=[])
        runs = runs_for_billing(calendar, {s.code: s.rules.schedule for s in structure.services})
        codes = [service_code] if service_code else [s.code for s in structure.services]
        return ClosurePreview(
            ClosureOutcome.CLOSED,
            day,
            service_name,
            len(entries),
            len({e.family_id for e, _c in entries}),
            len(pending),
            any(runs(code, day) for code in codes),
        )


class ReopenOutcome(StrEnum):
    """What became of `/reouvrir`."""

    REOPENED = "reopened"
    NOT_CLOSED = "not_closed"
    UNKNOWN_SERVICE = "unknown_service"
    PAST_DAY = "past_day"


@dataclass(frozen=True)
class ReopenResult:
    """Outcome of `/reouvrir`: the bookings and requests restored, the families told."""

    outcome: ReopenOutcome
    day: dt.date
    service_name: str | None = None
    restored: int = 0
    restored_requests: int = 0
    families: int = 0
    accounts: int = 0


async def reopen_day(
    db: Database,
    *,
    day: dt.date,
    service_code: str | None,
    staff_id: int,
    now: dt.datetime,
    today: dt.date,
) -> ReopenResult:
    """`/reouvrir`: lift a closure and restore what it cancelled; the families are told; audited.

    An entry changed since the closure (a parent booked again, say) is left as it is; the
    requests the closure cancelled are pending again (their cards are updated).
    """
    async with use_case(db) as uow:
        result = await _reopen_day(uow, day, service_code, staff_id, now, today)
        audit_staff(
            uow,
            staff_id,
            ACTION_REOPEN_DAY,
            now=now,
            outcome="ok" if result.outcome == ReopenOutcome.REOPENED else "refused",
            target=f"day:{day.isoformat()}",
            details={
                "service": service_code or "",
                "result": result.outcome.value,
                "restored": result.restored,
                "requests": result.restored_requests,
                "families": result.families,
            },
        )
        return result


async def _reopen_day(
    uow: UnitOfWork,
    day: dt.date,
    service_code: str | None,
    staff_id: int,
    now: dt.datetime,
    today: dt.date,
) -> ReopenResult:
    if day < today:
        return ReopenResult(ReopenOutcome.PAST_DAY, day)
    services = {s.id: s for s in await uow.repos.structure.services()}
    service_id, service_name = None, None
    if service_code is not None:
        service = next((s for s in services.values() if s.code == service_code), None)
        if service is None:
            return ReopenResult(ReopenOutcome.UNKNOWN_SERVICE, day)
        service_id, service_name = service.id, service.name
    closure = await uow.repos.staff_day.closure(day, service_id)
    if closure is None:
        return ReopenResult(ReopenOutcome.NOT_CLOSED, day, service_name)
    cancelled = {int(item["entry"]): item for item in closure.cancelled or []}
    entries = await uow.repos.staff_day.entries_on(
        day, frozenset({DayStatus.CANCELLED}), service_id
    )
    bookings: dict[int, list[CancelledBooking]] = defaultdict(list)
    request_ids: list[int] = []
    for entry, child in entries:
        item = cancelled.get(entry.id)
        if item is None:
            continue
        status = DayStatus(item["status"])
        uow.repos.staff_day.add_event(
            DayEntryEvent(
                day_entry_id=entry.id,
                at=now,
                actor_telegram_id=staff_id,
                actor_kind="staff",
                from_status=entry.status,
                to_status=status,
                request_id=entry.request_id,
                note="reopened",
            )
        )
        entry.status, entry.updated_at = status, now
        if item.get("request"):
            request_ids.append(int(item["request"]))
        bookings[entry.family_id].append(
            CancelledBooking(
                f"{child.first_name} {child.last_name}",
                services[entry.service_id].name if entry.service_id in services else "?",
            )
        )
    restored_requests = 0
    for request_id in sorted(set(request_ids)):
        request = await uow.repos.requests.get(request_id)
        if request is None or request.status != RequestStatus.CANCELLED:
            continue
        request.status, request.refusal_reason, request.decided_at, request.decided_by = (
            RequestStatus.PENDING,
            None,
            None,
            None,
        )
        restored_requests += 1
        await tell_staff(
            uow,
            CARD_UPDATE_TEMPLATE,
            {"request_id": request.id},
            now=now,
            family_id=request.family_id,
        )
    await uow.session.delete(closure)
    accounts = 0
    for family_id, restored in sorted(bookings.items()):
        params = {
            "day": day.isoformat(),
            "service": service_name,
            "bookings": [[booking.child_name, booking.service_name] for booking in restored],
        }
        accounts += await tell_family(uow, family_id, TEMPLATE_REOPENED, params, now=now)
    return ReopenResult(
        ReopenOutcome.REOPENED,
        day,
        service_name,
        sum(len(b) for b in bookings.values()),
        restored_requests,
        len(bookings),
        accounts,
    )
