"""Booking and absence requests as kinds of demande: how staff see them and what deciding does.

A booking of a service with `approval: staff` waits as "réservation en cours de traitement";
accepted it becomes "réservé", refused "réservation refusée". A late absence waits as "absence
en cours de traitement"; accepted (excused) it becomes "absent excusé", refused "absent facturé".
"""

from __future__ import annotations

import datetime as dt

from bot.domain.model import (
    PLACE_HOLDING_STATUSES,
    AbsenceReason,
    DayStatus,
    RequestKind,
)
from bot.i18n import N_
from bot.services.bookings import set_day_status
from bot.services.requests import (
    FieldChange,
    Label,
    RequestDescription,
    register_request_type,
)
from storage.db import UnitOfWork
from storage.models import Child, Request

REASON_LABELS = {
    AbsenceReason.ILLNESS: N_("illness"),
    AbsenceReason.PERSONAL: N_("personal convenience"),
    AbsenceReason.OTHER: N_("other"),
}


def _day_of(value: str) -> dt.date | str:
    """The request's day as a date (rendered in the reader's format), the stored text if unreadable."""
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return value


def _reason_label(code: str) -> Label | str:
    """An absence reason code as its label (translated by the reader), an unknown code as is."""
    try:
        return Label(REASON_LABELS[AbsenceReason(code)])
    except (KeyError, ValueError):
        return code


async def _week_count(uow: UnitOfWork, request: Request, minimum: dict[str, object]) -> str:
    """ "1 / 2": the days of that week the child holds now (booked or waiting), and the minimum."""
    try:
        monday = dt.date.fromisoformat(str(minimum["week"]))
    except (KeyError, ValueError):
        return f"? / {minimum.get('required', '?')}"
    if request.child_id is None:  # a booking request always names its child
        return f"? / {minimum.get('required', '?')}"
    codes = request.payload.get("services", [])[:1]
    ids = {s.id for s in await uow.repos.structure.services() if s.code in codes}
    entries = await uow.repos.planning.entries(
        request.child_id, monday, monday + dt.timedelta(days=6)
    )
    held = {e.day for e in entries if e.service_id in ids and e.status in PLACE_HOLDING_STATUSES}
    return f"{len(held)} / {minimum.get('required', '?')}"


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
            FieldChange(N_("Day"), _day_of(request.payload.get("day", ""))),
        ]
        reason = request.payload.get("reason")
        if reason:
            changes.append(FieldChange(N_("Absence reason"), _reason_label(reason)))
        if request.payload.get("note"):
            changes.append(FieldChange(N_("Comment"), request.payload["note"]))
        minimum = request.payload.get("week_minimum")
        if isinstance(minimum, dict):
            changes.append(
                FieldChange(
                    N_("⚠️ Below the weekly minimum (days booked / required)"),
                    await _week_count(uow, request, minimum),
                )
            )
        return RequestDescription(
            title=self.title,
            changes=tuple(changes),
            summary=(_day_of(request.payload.get("day", "")), wanted),
        )

    async def accept(self, uow: UnitOfWork, request: Request, now: dt.datetime) -> None:
        """Move the request's days to the accepted status."""
        await self._move(uow, request, self.accepted_status, now)

    async def refuse(self, uow: UnitOfWork, request: Request, now: dt.datetime) -> None:
        """Move the request's days to the refused status."""
        await self._move(uow, request, self.refused_status, now)

    async def _move(
        self, uow: UnitOfWork, request: Request, status: DayStatus, now: dt.datetime
    ) -> None:
        for entry in await uow.repos.planning.entries_of_request(request.id):
            await set_day_status(
                uow,
                entry,
                status,
                now,
                actor=request.decided_by,
                actor_kind="staff",
                request_id=request.id,
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
