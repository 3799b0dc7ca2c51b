"""Booking and absence requests as kinds of demande: how staff see them and what deciding does.

A booking of a service with `approval: staff` waits as "réservation en cours de traitement";
accepted it becomes "réservé", refused "réservation refusée". A late absence waits as "absence
en cours de traitement"; accepted (excused) it becomes "absent excusé", refused "absent facturé".
"""

from __future__ import annotations

import datetime as dt

from bot.domain.model import AbsenceReason, DayStatus, RequestKind
from bot.i18n import N_
from bot.services.bookings import set_day_status
from bot.services.requests import FieldChange, RequestDescription, register_request_type
from storage.db import UnitOfWork
from storage.models import Child, Request

REASON_LABELS = {
    AbsenceReason.ILLNESS: N_("illness"),
    AbsenceReason.PERSONAL: N_("personal convenience"),
    AbsenceReason.OTHER: N_("other"),
}


class _DayRequest:
    """Shared behaviour: the request's day entries move to one status or another."""

    kind: RequestKind
    title: str
    accepted_status: DayStatus
    refused_status: DayStatus

    async def describe(self, uow: UnitOfWork, request: Request) -> RequestDescription:
        """Child, services and day (and, for an absence, the reason)."""
        child = await uow.session.get(Child, request.child_id)
        services = await uow.repos.structure.services()
        names = {s.code: s.name for s in services}
        wanted = ", ".join(names.get(code, code) for code in request.payload.get("services", []))
        changes = [
            FieldChange(N_("Child"), f"{child.first_name} {child.last_name}" if child else "?"),
            FieldChange(N_("Service"), wanted),
            FieldChange(N_("Day"), request.payload.get("day", "")),
        ]
        reason = request.payload.get("reason")
        if reason:
            changes.append(FieldChange(N_("Reason"), REASON_LABELS.get(AbsenceReason(reason), reason)))
        if request.payload.get("note"):
            changes.append(FieldChange(N_("Comment"), request.payload["note"]))
        return RequestDescription(title=self.title, changes=tuple(changes))

    async def accept(self, uow: UnitOfWork, request: Request, now: dt.datetime) -> None:
        """Move the request's days to the accepted status."""
        await self._move(uow, request, self.accepted_status, now)

    async def refuse(self, uow: UnitOfWork, request: Request, now: dt.datetime) -> None:
        """Move the request's days to the refused status."""
        await self._move(uow, request, self.refused_status, now)

    async def _move(self, uow: UnitOfWork, request: Request, status: DayStatus, now: dt.datetime) -> None:
        for entry in await uow.repos.planning.entries_of_request(request.id):
            await set_day_status(
                uow, entry, status, now, actor=request.decided_by, actor_kind="staff", request_id=request.id
            )


class BookingRequestType(_DayRequest):
    """A booking waiting for staff."""

    kind = RequestKind.BOOKING
    title = N_("Booking request")
    accepted_status = DayStatus.RESERVED
    refused_status = DayStatus.BOOKING_REFUSED


class AbsenceRequestType(_DayRequest):
    """A late cancellation or absence: staff excuse it, or it is billed."""

    kind = RequestKind.ABSENCE
    title = N_("Absence declaration")
    accepted_status = DayStatus.ABSENT_EXCUSED
    refused_status = DayStatus.ABSENT_BILLED


register_request_type(BookingRequestType())
register_request_type(AbsenceRequestType())
