"""The staff's side of requests: what a card in the admin group shows, and deciding from it.

Works for every kind of request through `bot.services.requests` (describe_request,
decide_request): a new kind registered there needs no code here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.model import GuardianRole, RequestKind, RequestStatus
from bot.services.home import display_name
from bot.services.notifications import Recipient, family_recipients
from bot.services.requests import DecisionOutcome, RequestDescription, decide_request, describe_request
from storage.db import UnitOfWork
from storage.models import Request

NOT_POSTABLE = 0
"""admin_message_id of a request whose card Telegram refused for good (it is not retried).

`Request.admin_message_id` says where the staff see a request: NULL not shown yet (queued),
a positive id its card in the admin group, a negative id the digest listing it (`-message_id`,
see `digest_reference`), NOT_POSTABLE given up.
"""


def digest_reference(message_id: int) -> int:
    """The admin_message_id of a request listed in a digest message (not a card of its own)."""
    return -abs(message_id)


@dataclass(frozen=True)
class RequestCard:
    """Everything a card shows about a request, as plain data."""

    request_id: int
    kind: RequestKind
    status: RequestStatus
    family_id: int
    family_number: str
    family_name: str
    child_name: str | None
    description: RequestDescription
    created_at: dt.datetime
    attachment_file_id: str | None
    attachment_kind: str | None
    decided_at: dt.datetime | None
    decided_by_name: str | None
    reason: str | None
    admin_message_id: int | None

    @property
    def pending(self) -> bool:
        """True while staff have not decided."""
        return self.status == RequestStatus.PENDING


@dataclass(frozen=True)
class CardDecision:
    """Outcome of a decision from a card: the card as it now stands, and who to tell."""

    outcome: DecisionOutcome
    card: RequestCard | None
    recipients: tuple[Recipient, ...] = ()


async def request_card(uow: UnitOfWork, request_id: int) -> RequestCard | None:
    """The card of one request, or None when it does not exist."""
    request = await uow.repos.requests.get(request_id)
    return None if request is None else await _card(uow, request)


async def unposted_ids(uow: UnitOfWork, limit: int) -> list[int]:
    """Ids of pending requests not yet shown in the admin group, oldest first (cheap)."""
    return [request.id for request in await uow.repos.requests.unposted(limit)]


async def cards_of(uow: UnitOfWork, request_ids: Sequence[int]) -> list[RequestCard]:
    """The cards of these requests, in this order (unknown ids are skipped)."""
    cards = []
    for request_id in request_ids:
        card = await request_card(uow, request_id)
        if card is not None:
            cards.append(card)
    return cards


async def unposted_cards(uow: UnitOfWork, limit: int) -> list[RequestCard]:
    """Pending requests not yet shown in the admin group, oldest first."""
    return [await _card(uow, request) for request in await uow.repos.requests.unposted(limit)]


async def has_unposted(uow: UnitOfWork) -> bool:
    """True while some pending request waits to be shown in the admin group."""
    return bool(await uow.repos.requests.unposted(1))


async def pending_cards(uow: UnitOfWork) -> list[RequestCard]:
    """Every pending request, oldest first (/demandes)."""
    return [await _card(uow, request) for request in await uow.repos.requests.pending()]


async def record_card_message(uow: UnitOfWork, request_ids: Sequence[int], message_id: int) -> None:
    """Remember which admin group message shows these requests (NOT_POSTABLE: given up)."""
    await uow.repos.requests.set_admin_message(request_ids, message_id)


async def decide_from_card(
    uow: UnitOfWork,
    request_id: int,
    *,
    accept: bool,
    staff_id: int,
    staff_name: str,
    now: dt.datetime,
    reason: str | None = None,
) -> CardDecision:
    """Accept or refuse once, through the request's registered type; the caller commits."""
    result = await decide_request(
        uow, request_id, accept=accept, staff_id=staff_id, staff_name=staff_name, now=now, reason=reason
    )
    if result.request is None:
        return CardDecision(result.outcome, None)
    await uow.session.flush()
    card = await _card(uow, result.request)
    recipients: tuple[Recipient, ...] = ()
    if result.outcome == DecisionOutcome.DECIDED:
        recipients = tuple(await family_recipients(uow, result.request.family_id))
    return CardDecision(result.outcome, card, recipients)


async def _card(uow: UnitOfWork, request: Request) -> RequestCard:
    family = await uow.repos.families.get(request.family_id)
    child_name = None
    if request.child_id is not None:
        child = next((c for c in await uow.repos.families.children(request.family_id) if c.id == request.child_id), None)
        child_name = f"{child.first_name} {child.last_name}" if child is not None else None
    return RequestCard(
        request_id=request.id,
        kind=request.kind,
        status=request.status,
        family_id=request.family_id,
        family_number=family.number if family is not None else "?",
        family_name=display_name(family.guardian(GuardianRole.RESPONSABLE)) if family is not None else "",
        child_name=child_name,
        description=await describe_request(uow, request),
        created_at=request.created_at,
        attachment_file_id=request.attachment_file_id,
        attachment_kind=request.attachment_kind,
        decided_at=request.decided_at,
        decided_by_name=request.decided_by_name,
        reason=request.reason,
        admin_message_id=request.admin_message_id,
    )
