"""Mes enfants: the fiche enfant and the ownership check every child button goes through.

The pages of the tab (the list, the fiche, Les autorisations, Données sanitaires, the services
to enrol in) are use cases of their own: each opens the parent's transaction, checks that the
tapped child is the family's (`ChildNotInFamily`, audited, otherwise) and returns plain data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.model import GuardianRole, RequestKind
from bot.services.home import family_record
from bot.services.request_history import HistoryItem, pending_items
from bot.services.use_case import NotAllowed, family_use_case
from storage.db import Database, UnitOfWork
from storage.models import (
    AuthorizedPerson,
    Child,
    Enrolment,
    HealthItem,
    Request,
    Service,
    Vaccination,
)

ACTION_OWNERSHIP_REFUSED = "ownership.refused"


class ChildNotInFamily(NotAllowed):
    """A button names a child who is not one of the family's (the attempt is audited)."""


class PersonNotListed(NotAllowed):
    """A button names a person who is not (or no longer) authorised for this child (audited)."""


@dataclass(frozen=True)
class ChildSheet:
    """Everything the fiche enfant and its sub-pages show."""

    child: Child
    family_number: str
    responsable_name: str
    enrolments: tuple[Enrolment, ...]
    authorized_persons: tuple[AuthorizedPerson, ...]
    vaccinations: tuple[Vaccination, ...]
    health_items: tuple[HealthItem, ...]
    pending: tuple[Request, ...]

    def pending_of(self, *kinds: RequestKind) -> list[Request]:
        """Pending requests about this child of the given kinds, oldest first."""
        return [request for request in self.pending if request.kind in kinds]


async def owned_child(
    uow: UnitOfWork, family_id: int, child_id: int | None, *, actor: int | None, now: dt.datetime
) -> Child | None:
    """The child when it is one of the family's; otherwise None and the attempt is audited.

    The caller commits (the audit entry is written with its unit of work).
    """
    child = await uow.repos.children.of_family(family_id, child_id) if child_id else None
    if child is None:
        uow.repos.audit.record(
            action=ACTION_OWNERSHIP_REFUSED,
            outcome="refused",
            actor_telegram_id=actor,
            actor_kind="parent",
            family_id=family_id,
            target=f"child:{child_id}",
            at=now,
        )
    return child


async def child_of_family(
    uow: UnitOfWork, family_id: int, child_id: int | None, *, actor: int, now: dt.datetime
) -> Child:
    """The family's child, or `ChildNotInFamily` (audited; the refusal commits the audit)."""
    child = await owned_child(uow, family_id, child_id, actor=actor, now=now)
    if child is None:
        raise ChildNotInFamily()
    return child


async def refuse_foreign(
    uow: UnitOfWork, family_id: int, target: str, *, actor: int | None, now: dt.datetime
) -> None:
    """Audit a button naming something that is not the family's (a person, a document…)."""
    uow.repos.audit.record(
        action=ACTION_OWNERSHIP_REFUSED,
        outcome="refused",
        actor_telegram_id=actor,
        actor_kind="parent",
        family_id=family_id,
        target=target,
        at=now,
    )


async def child_sheet(uow: UnitOfWork, family_id: int, child: Child) -> ChildSheet:
    """The fiche enfant of a child already checked with `owned_child`."""
    family = await uow.repos.families.get(family_id)
    assert family is not None
    responsable = family.guardian(GuardianRole.RESPONSABLE)
    pending = await uow.repos.requests.pending_of_family(family_id)
    return ChildSheet(
        child=child,
        family_number=family.number,
        responsable_name=f"{responsable.last_name} {responsable.first_name}" if responsable else "",
        enrolments=tuple(await uow.repos.children.enrolments(family_id, child.id)),
        authorized_persons=tuple(await uow.repos.children.authorized_persons(child.id)),
        vaccinations=tuple(await uow.repos.children.vaccinations(child.id)),
        health_items=tuple(await uow.repos.children.health_items(child.id)),
        pending=tuple(request for request in pending if request.child_id == child.id),
    )


def current_enrolments(sheet: ChildSheet, today: dt.date) -> list[Enrolment]:
    """Inscriptions running today or starting later ("Inscriptions en cours")."""
    return [e for e in sheet.enrolments if e.ends_on is None or e.ends_on >= today]


async def enrolable_services(
    uow: UnitOfWork, sheet: ChildSheet, today: dt.date
) -> Sequence[Service]:
    """Active services the child is not enrolled in and not already asked for."""
    enrolled = {e.service_id for e in current_enrolments(sheet, today)}
    asked = {int(r.payload.get("service_id", 0)) for r in sheet.pending_of(RequestKind.ENROLMENT)}
    return [
        s for s in await uow.repos.structure.services() if s.active and s.id not in enrolled | asked
    ]


# --- The pages of Mes enfants (use cases) --------------------------------------------------


@dataclass(frozen=True)
class ChildrenPage:
    """Mes enfants: the family's children and the additions asked, not yet processed."""

    children: tuple[Child, ...]
    pending_additions: list[HistoryItem]


@dataclass(frozen=True)
class AuthorizationsPage:
    """Les autorisations of a child, with the additions and removals asked."""

    sheet: ChildSheet
    additions: list[HistoryItem]
    removals: list[HistoryItem]

    @property
    def removable(self) -> list[AuthorizedPerson]:
        """The persons whose removal is not asked yet."""
        asked = {int(item.request.payload.get("person_id", 0)) for item in self.removals}
        return [person for person in self.sheet.authorized_persons if person.id not in asked]


@dataclass(frozen=True)
class RemovalQuestion:
    """The child and the authorised person a parent is about to ask to remove."""

    child: Child
    person: AuthorizedPerson


@dataclass(frozen=True)
class HealthPage:
    """Données sanitaires of a child, with the additions asked."""

    sheet: ChildSheet
    pending: list[HistoryItem]


@dataclass(frozen=True)
class EnrolmentPage:
    """The services a child may be enrolled in."""

    sheet: ChildSheet
    services: Sequence[Service]


async def children_page(db: Database, telegram_user_id: int) -> ChildrenPage:
    """The Mes enfants tab of the account's family."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        record = await family_record(uow, family_id)
        pending = await pending_items(uow, family_id, (RequestKind.ADD_CHILD,))
    return ChildrenPage(record.children, pending)


async def child_page(
    db: Database, telegram_user_id: int, child_id: int | None, *, now: dt.datetime
) -> ChildSheet:
    """The fiche enfant of one of the family's children."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        return await _sheet_of(uow, family_id, child_id, telegram_user_id, now)


async def authorizations_page(
    db: Database, telegram_user_id: int, child_id: int | None, *, now: dt.datetime
) -> AuthorizationsPage:
    """Les autorisations of one of the family's children."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        sheet = await _sheet_of(uow, family_id, child_id, telegram_user_id, now)
        return await authorizations(uow, family_id, sheet)


async def authorizations(uow: UnitOfWork, family_id: int, sheet: ChildSheet) -> AuthorizationsPage:
    """Les autorisations of a child already checked (a building block of the use cases)."""
    child_id = sheet.child.id
    return AuthorizationsPage(
        sheet=sheet,
        additions=await pending_items(
            uow, family_id, (RequestKind.AUTHORIZATION,), child_id=child_id
        ),
        removals=await pending_items(
            uow, family_id, (RequestKind.AUTHORIZATION_REMOVAL,), child_id=child_id
        ),
    )


async def removal_question(
    db: Database,
    telegram_user_id: int,
    child_id: int | None,
    person_id: int | None,
    *,
    now: dt.datetime,
) -> RemovalQuestion:
    """The person to remove from a child's authorisations (`PersonNotListed` when not there)."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        child = await child_of_family(uow, family_id, child_id, actor=telegram_user_id, now=now)
        person = (
            await uow.repos.children.authorized_person(child.id, person_id) if person_id else None
        )
        if person is None:
            await refuse_foreign(
                uow, family_id, f"authorized_person:{person_id}", actor=telegram_user_id, now=now
            )
            raise PersonNotListed()
        return RemovalQuestion(child, person)


async def health_page(
    db: Database, telegram_user_id: int, child_id: int | None, *, now: dt.datetime
) -> HealthPage:
    """Données sanitaires of one of the family's children."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        sheet = await _sheet_of(uow, family_id, child_id, telegram_user_id, now)
        pending = await pending_items(
            uow, family_id, (RequestKind.HEALTH,), child_id=sheet.child.id
        )
    return HealthPage(sheet, pending)


async def enrolment_page(
    db: Database, telegram_user_id: int, child_id: int | None, *, now: dt.datetime, today: dt.date
) -> EnrolmentPage:
    """The services one of the family's children may be enrolled in."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        sheet = await _sheet_of(uow, family_id, child_id, telegram_user_id, now)
        return EnrolmentPage(sheet, await enrolable_services(uow, sheet, today))


async def _sheet_of(
    uow: UnitOfWork, family_id: int, child_id: int | None, actor: int, now: dt.datetime
) -> ChildSheet:
    child = await child_of_family(uow, family_id, child_id, actor=actor, now=now)
    return await child_sheet(uow, family_id, child)
