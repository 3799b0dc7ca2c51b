"""Parent requests (demandes): submit, describe, and decide them — whatever their kind.

Each kind of request plugs in by registering a `RequestType`: how to describe it on the staff's
card (plain data, rendered by the dialogues) and what accepting or refusing it does to the
records, in the same transaction as the decision. The staff side never needs new code for a
new kind.

Every request goes through `submit_request`, which also queues its card for the admin group
(`CARD_TEMPLATE`) in the request's own transaction: a request committed is a card that will be
shown, even if the process dies right after the commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from bot.domain.model import RequestKind, RequestStatus
from bot.i18n import _, format_day
from bot.services.outbox import tell_staff
from bot.services.staff_audit import audit_staff
from storage.db import UnitOfWork
from storage.models import Request

ACTION_DECIDE = "request.decide"
CARD_TEMPLATE = "staff.request_card"
"""Outbox template of a new request's card in the admin group, params {"request_id"}."""
CARD_UPDATE_TEMPLATE = "staff.card_update"
"""Outbox template editing the group's card to the request's current state, params {"request_id"}."""
DECIDED_TEMPLATE = "requests.decided"
"""Outbox template telling the family a decision, params {"request_id", "accepted"}."""


@dataclass(frozen=True)
class FieldChange:
    """One line of a card: a field, its current value and the requested one.

    `label` is an untranslated message id (marked with N_), translated when rendered.
    """

    label: str
    requested: FieldValue
    current: FieldValue | None = None


class Label(str):
    """A value that is an untranslated message id (a reason code's label), translated when rendered."""


FieldValue = str | dt.date | Label
"""What a card line holds: text as typed, a date, or a label; rendered in the reader's language."""


def render_value(value: FieldValue | None) -> str:
    """A card value in the current language: a date as "jeudi 3 décembre 2026", a label translated."""
    if value is None:
        return ""
    if isinstance(value, Label):
        return _(value)
    if isinstance(value, dt.date):
        return format_day(value)
    return value


@dataclass(frozen=True)
class RequestDescription:
    """What a staff card shows about a request, as plain data."""

    title: str  # untranslated message id (N_), e.g. N_("Booking request")
    changes: tuple[FieldChange, ...] = ()
    title_args: dict[str, str] = field(default_factory=dict)
    summary: tuple[FieldValue, ...] = ()
    """What a one-line summary (digest, /demandes) shows beside the title: the day, the service."""


class RequestType(Protocol):
    """How one kind of request is described and applied."""

    kind: RequestKind

    async def describe(self, uow: UnitOfWork, request: Request) -> RequestDescription:
        """The card's content."""
        ...

    async def accept(self, uow: UnitOfWork, request: Request, now: dt.datetime) -> None:
        """Apply the request to the records (same transaction as the decision)."""
        ...

    async def refuse(self, uow: UnitOfWork, request: Request, now: dt.datetime) -> None:
        """Undo any provisional state the request created (e.g. a pending booking)."""
        ...


_REGISTRY: dict[RequestKind, RequestType] = {}


def register_request_type(request_type: RequestType) -> None:
    """Plug a kind of request in (called at import time by the module defining it)."""
    _REGISTRY[request_type.kind] = request_type


def request_type(kind: RequestKind) -> RequestType | None:
    """The registered handling of a kind, if any."""
    return _REGISTRY.get(kind)


class DecisionOutcome(StrEnum):
    """What became of a decision attempt."""

    DECIDED = "decided"
    ALREADY_DECIDED = "already_decided"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class DecisionResult:
    """Outcome of a decision, with the request as it now stands."""

    outcome: DecisionOutcome
    request: Request | None = None


async def submit_request(
    uow: UnitOfWork,
    *,
    family_id: int,
    kind: RequestKind,
    payload: dict[str, Any],
    created_by: int | None,
    now: dt.datetime,
    child_id: int | None = None,
    attachment_file_id: str | None = None,
    attachment_kind: str | None = None,
    idempotency_key: str | None = None,
) -> Request:
    """Record a pending request and queue its card for the staff, in the caller's transaction.

    A repeated idempotency key returns the first request (and queues nothing more).
    """
    if idempotency_key is not None:
        existing = await uow.repos.requests.by_idempotency_key(idempotency_key)
        if existing is not None:
            return existing
    request = Request(
        family_id=family_id,
        child_id=child_id,
        kind=kind,
        payload=payload,
        status=RequestStatus.PENDING,
        created_at=now,
        created_by=created_by,
        attachment_file_id=attachment_file_id,
        attachment_kind=attachment_kind,
        idempotency_key=idempotency_key,
    )
    uow.repos.requests.add(request)
    await uow.session.flush()
    await tell_staff(uow, CARD_TEMPLATE, {"request_id": request.id}, now=now, family_id=family_id)
    return request


async def decide_request(
    uow: UnitOfWork,
    request_id: int,
    *,
    accept: bool,
    staff_id: int,
    staff_name: str,
    now: dt.datetime,
    reason: str | None = None,
) -> DecisionResult:
    """Accept or refuse a pending request once; a second decision is reported, not applied.

    A building block of the staff's decision (`bot.services.request_cards.decide_from_card`),
    which also tells the family and updates the group's card in the same transaction.
    """
    request = await uow.repos.requests.get_for_update(request_id)
    if request is None:
        return DecisionResult(DecisionOutcome.NOT_FOUND)
    if request.status != RequestStatus.PENDING:
        return DecisionResult(DecisionOutcome.ALREADY_DECIDED, request)
    request.status = RequestStatus.ACCEPTED if accept else RequestStatus.REFUSED
    request.refusal_reason = None if accept else reason
    request.decided_at = now
    request.decided_by = staff_id
    request.decided_by_name = staff_name
    handler = request_type(request.kind)
    if handler is not None:
        await (handler.accept if accept else handler.refuse)(uow, request, now)
    audit_staff(
        uow,
        staff_id,
        ACTION_DECIDE,
        now=now,
        family_id=request.family_id,
        target=f"request:{request.id}",
        details={"kind": request.kind.value, "accepted": accept},
    )
    return DecisionResult(DecisionOutcome.DECIDED, request)


async def describe_request(uow: UnitOfWork, request: Request) -> RequestDescription:
    """The card content of a request; a generic one for kinds without a registered type."""
    handler = request_type(request.kind)
    if handler is not None:
        return await handler.describe(uow, request)
    changes = tuple(
        FieldChange(label=str(key), requested=str(value))
        for key, value in sorted(request.payload.items())
    )
    return RequestDescription(title=request.kind.value, changes=changes)


async def pending_requests(uow: UnitOfWork) -> Sequence[Request]:
    """Every pending request, oldest first."""
    return await uow.repos.requests.pending()
