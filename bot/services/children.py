"""Mes enfants: the fiche enfant and the ownership check every child button goes through."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.model import GuardianRole, RequestKind
from storage.db import UnitOfWork
from storage.models import AuthorizedPerson, Child, Enrolment, HealthItem, Request, Service, Vaccination

ACTION_OWNERSHIP_REFUSED = "ownership.refused"


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


async def owned_child(uow: UnitOfWork, family_id: int, child_id: int | None, *, actor: int | None, now: dt.datetime) -> Child | None:
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


async def refuse_foreign(uow: UnitOfWork, family_id: int, target: str, *, actor: int | None, now: dt.datetime) -> None:
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


async def enrolable_services(uow: UnitOfWork, sheet: ChildSheet, today: dt.date) -> Sequence[Service]:
    """Active services the child is not enrolled in and not already asked for."""
    enrolled = {e.service_id for e in current_enrolments(sheet, today)}
    asked = {int(r.payload.get("service_id", 0)) for r in sheet.pending_of(RequestKind.ENROLMENT)}
    return [s for s in await uow.repos.structure.services() if s.active and s.id not in enrolled | asked]

