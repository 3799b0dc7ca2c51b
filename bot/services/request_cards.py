"""The staff's side of requests: what a card in the admin group shows, and deciding from it.

Works for every kind of request through `bot.services.requests` (describe_request,
decide_request): a new kind registered there needs no code here.

A new request's card is an outbox row (`requests.CARD_TEMPLATE`, queued by `submit_request`);
once posted, `record_card_message` remembers which admin group message shows it. A decision is
one transaction: the decision itself, its audit row with the real outcome, the family's notice
(`requests.DECIDED_TEMPLATE`) and, when the group's card is not the message the staff member
tapped, the card's update (`requests.CARD_UPDATE_TEMPLATE`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.model import GuardianRole, RequestKind, RequestStatus
from bot.services.home import display_name
from bot.services.outbox import tell_family, tell_staff
from bot.services.requests import (
    CARD_UPDATE_TEMPLATE,
    DECIDED_TEMPLATE,
    DecisionOutcome,
    RequestDescription,
    decide_request,
    describe_request,
)
from bot.services.staff_audit import audit_staff
from bot.services.use_case import Refused, use_case
from storage.db import Database, UnitOfWork
from storage.models import Request

ACTION_ACCEPT = "staff.accept"
ACTION_REFUSE = "staff.refuse"
ACTION_OPEN = "staff.open_card"
ACTION_PENDING = "staff.pending_requests"
REOPENED_TEMPLATE = "staff.card_reopened"
"""Outbox template: a request's card posted again in the admin group, params {"request_id"}."""
RETIRED_TEMPLATE = "staff.card_retired"
"""Outbox template: an older copy of a card shown without its buttons, params {"request_id", "message_id"}."""


def digest_reference(message_id: int) -> int:
    """The admin_message_id of a request listed in a digest message (not a card of its own).

    `Request.admin_message_id` says where the staff see a request: NULL not shown (yet), a
    positive id its card in the admin group, a negative id the digest listing it.
    """
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
    refusal_reason: str | None
    admin_message_id: int | None

    @property
    def pending(self) -> bool:
        """True while staff have not decided."""
        return self.status == RequestStatus.PENDING

    @property
    def group_card_id(self) -> int | None:
        """The admin group message that is this request's own card (not a digest), if any."""
        return (
            self.admin_message_id
            if self.admin_message_id is not None and self.admin_message_id > 0
            else None
        )


@dataclass(frozen=True)
class CardDecision:
    """Outcome of a decision from a card, with the card as it now stands."""

    outcome: DecisionOutcome
    card: RequestCard | None
    families_told: int = 0


class DecisionFailed(Refused):
    """The request's type could not apply the decision: nothing changed (the failure is audited)."""


# --- reading cards ---------------------------------------------------------------------------


async def request_card(uow: UnitOfWork, request_id: int) -> RequestCard | None:
    """The card of one request, or None when it does not exist."""
    request = await uow.repos.requests.get(request_id)
    return None if request is None else await _card(uow, request)


async def cards_of(uow: UnitOfWork, request_ids: Sequence[int]) -> list[RequestCard]:
    """The cards of these requests, in this order (unknown ids are skipped)."""
    cards = []
    for request_id in request_ids:
        card = await request_card(uow, request_id)
        if card is not None:
            cards.append(card)
    return cards


async def pending_cards(uow: UnitOfWork) -> list[RequestCard]:
    """Every pending request, oldest first."""
    return [await _card(uow, request) for request in await uow.repos.requests.pending()]


async def get_card(db: Database, request_id: int) -> RequestCard | None:
    """A request's card as it stands now (None when the request does not exist)."""
    async with use_case(db) as uow:
        return await request_card(uow, request_id)


async def pending_cards_of(db: Database, request_ids: Sequence[int]) -> list[RequestCard]:
    """Among these requests, the cards of those still pending, in this order (a digest)."""
    async with use_case(db) as uow:
        return [card for card in await cards_of(uow, request_ids) if card.pending]


async def list_pending(db: Database, *, staff_id: int, now: dt.datetime) -> list[RequestCard]:
    """/demandes: every pending request, oldest first."""
    async with use_case(db) as uow:
        cards = await pending_cards(uow)
        audit_staff(uow, staff_id, ACTION_PENDING, now=now, details={"pending": len(cards)})
        return cards


# --- where the group shows a request -----------------------------------------------------------


async def record_card_message(uow: UnitOfWork, request_ids: Sequence[int], message_id: int) -> None:
    """Remember which admin group message shows these requests."""
    await uow.repos.requests.set_admin_message(request_ids, message_id)


async def record_digest_message(
    uow: UnitOfWork, request_ids: Sequence[int], message_id: int
) -> None:
    """Remember that a digest message lists these requests (they have no card of their own yet)."""
    await uow.repos.requests.set_admin_message(request_ids, digest_reference(message_id))


async def open_card(
    db: Database, request_id: int, *, staff_id: int, now: dt.datetime, in_admin_group: bool
) -> RequestCard | None:
    """A digest's or /demandes' button: the card to show (None when the request does not exist).

    In the admin group, a pending request's card is posted again through the outbox (it then
    becomes the group's card of the request) and the older copy loses its buttons, so that one
    card only can be decided; elsewhere the caller shows the returned card itself.
    """
    async with use_case(db) as uow:
        card = await request_card(uow, request_id)
        outcome = "not_found" if card is None else ("ok" if card.pending else "already_decided")
        audit_staff(
            uow, staff_id, ACTION_OPEN, now=now, outcome=outcome, target=f"request:{request_id}"
        )
        if card is not None and card.pending and in_admin_group:
            await tell_staff(
                uow,
                REOPENED_TEMPLATE,
                {"request_id": request_id},
                now=now,
                family_id=card.family_id,
            )
            if card.group_card_id is not None:
                await tell_staff(
                    uow,
                    RETIRED_TEMPLATE,
                    {"request_id": request_id, "message_id": card.group_card_id},
                    now=now,
                    family_id=card.family_id,
                )
        return card


# --- deciding -----------------------------------------------------------------------------------


async def decide_and_tell(
    uow: UnitOfWork,
    request_id: int,
    *,
    accept: bool,
    staff_id: int,
    staff_name: str,
    now: dt.datetime,
    reason: str | None = None,
    edited_in_group: int | None = None,
) -> CardDecision:
    """Decide once and queue what follows, in the caller's transaction.

    When the decision is taken, the family is told and the group's card is updated, unless
    `edited_in_group` names that very card (the caller edits the message it answers). Used by
    the staff's taps and by the jobs deciding on the structure's behalf.
    """
    result = await decide_request(
        uow,
        request_id,
        accept=accept,
        staff_id=staff_id,
        staff_name=staff_name,
        now=now,
        reason=reason,
    )
    if result.request is None:
        return CardDecision(result.outcome, None)
    await uow.session.flush()
    card = await _card(uow, result.request)
    if result.outcome != DecisionOutcome.DECIDED:
        return CardDecision(result.outcome, card)
    told = await tell_family(
        uow,
        card.family_id,
        DECIDED_TEMPLATE,
        {"request_id": card.request_id, "accepted": accept},
        now=now,
    )
    if card.group_card_id is not None and card.group_card_id != edited_in_group:
        await tell_staff(
            uow,
            CARD_UPDATE_TEMPLATE,
            {"request_id": card.request_id},
            now=now,
            family_id=card.family_id,
        )
    return CardDecision(result.outcome, card, told)


async def decide_from_card(
    db: Database,
    request_id: int,
    *,
    accept: bool,
    staff_id: int,
    staff_name: str,
    now: dt.datetime,
    reason: str | None = None,
    edited_in_group: int | None = None,
) -> CardDecision:
    """✅ Accepter / ❌ Refuser: one transaction deciding, auditing, telling the family and the group.

    Raises `DecisionFailed` when the request's type could not apply it: the decision and its
    messages are rolled back, and only the audit of the failure is kept.
    """
    action = ACTION_ACCEPT if accept else ACTION_REFUSE
    target = f"request:{request_id}"
    async with use_case(db) as uow:
        try:
            async with uow.session.begin_nested():
                decision = await decide_and_tell(
                    uow,
                    request_id,
                    accept=accept,
                    staff_id=staff_id,
                    staff_name=staff_name,
                    now=now,
                    reason=reason,
                    edited_in_group=edited_in_group,
                )
        except Exception as exc:
            audit_staff(
                uow,
                staff_id,
                action,
                now=now,
                outcome="failed",
                target=target,
                details={"error": type(exc).__name__},
            )
            raise DecisionFailed(request_id) from exc
        family_id = decision.card.family_id if decision.card is not None else None
        audit_staff(
            uow,
            staff_id,
            action,
            now=now,
            outcome=_AUDIT_OUTCOME[decision.outcome],
            family_id=family_id,
            target=target,
        )
        return decision


_AUDIT_OUTCOME = {
    DecisionOutcome.DECIDED: "ok",
    DecisionOutcome.ALREADY_DECIDED: "already_decided",
    DecisionOutcome.NOT_FOUND: "not_found",
}


async def _card(uow: UnitOfWork, request: Request) -> RequestCard:
    family = await uow.repos.families.get(request.family_id)
    child_name = None
    if request.child_id is not None:
        child = next(
            (
                c
                for c in await uow.repos.families.children(request.family_id)
                if c.id == request.child_id
            ),
            None,
        )
        child_name = f"{child.first_name} {child.last_name}" if child is not None else None
    return RequestCard(
        request_id=request.id,
        kind=request.kind,
        status=request.status,
        family_id=request.family_id,
        family_number=family.number if family is not None else "?",
        family_name=display_name(family.guardian(GuardianRole.RESPONSABLE))
        if family is not None
        else "",
        child_name=child_name,
        description=await describe_request(uow, request),
        created_at=request.created_at,
        attachment_file_id=request.attachment_file_id,
        attachment_kind=request.attachment_kind,
        decided_at=request.decided_at,
        decided_by_name=request.decided_by_name,
        refusal_reason=request.refusal_reason,
        admin_message_id=request.admin_message_id,
    )


# --- accepting a family's requests at once ---------------------------------------------------------

ACTION_ACCEPT_FAMILY = "staff.accept_family"
BULK_KINDS = frozenset({RequestKind.BOOKING, RequestKind.ABSENCE})
"""Kinds that may be accepted together: day requests (a booking, an absence), each applied by its
own rules; other requests change a family's record and are read one by one."""


def bulk_acceptable(cards: Sequence[RequestCard]) -> dict[int, list[RequestCard]]:
    """Per family, its pending requests that may be accepted together (families with two or more)."""
    by_family: dict[int, list[RequestCard]] = {}
    for card in cards:
        if card.pending and card.kind in BULK_KINDS:
            by_family.setdefault(card.family_id, []).append(card)
    return {family_id: found for family_id, found in by_family.items() if len(found) > 1}


@dataclass(frozen=True)
class FamilyAcceptance:
    """What accepting a family's requests did, request by request."""

    family_name: str
    family_number: str
    accepted: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()  # its type could not apply it: left pending
    already_decided: tuple[int, ...] = ()


async def family_bulk_requests(db: Database, family_id: int) -> list[RequestCard]:
    """The family's pending requests that may be accepted together, oldest first."""
    async with use_case(db) as uow:
        return [
            card
            for card in await pending_cards(uow)
            if card.family_id == family_id and card.kind in BULK_KINDS
        ]


async def accept_family_requests(
    db: Database, family_id: int, *, staff_id: int, staff_name: str, now: dt.datetime
) -> FamilyAcceptance | None:
    """✅ Accept every request of this family that may be: one transaction, each request decided
    with its own outcome (a savepoint each: one failing leaves the others accepted), each audited,
    the family told of each decision and the group's cards updated through the outbox.

    None when the family does not exist (audited as refused).
    """
    async with use_case(db) as uow:
        family = await uow.repos.families.get(family_id)
        if family is None:
            audit_staff(
                uow,
                staff_id,
                ACTION_ACCEPT_FAMILY,
                now=now,
                outcome="refused",
                target=f"family_id:{family_id}",
            )
            return None
        cards = [
            c for c in await pending_cards(uow) if c.family_id == family_id and c.kind in BULK_KINDS
        ]
        accepted: list[int] = []
        failed: list[int] = []
        already: list[int] = []
        for card in cards:
            target = f"request:{card.request_id}"
            try:
                async with uow.session.begin_nested():
                    decision = await decide_and_tell(
                        uow,
                        card.request_id,
                        accept=True,
                        staff_id=staff_id,
                        staff_name=staff_name,
                        now=now,
                    )
            except Exception as exc:
                audit_staff(
                    uow,
                    staff_id,
                    ACTION_ACCEPT,
                    now=now,
                    outcome="failed",
                    family_id=family_id,
                    target=target,
                    details={"error": type(exc).__name__, "bulk": True},
                )
                failed.append(card.request_id)
                continue
            outcome = _AUDIT_OUTCOME[decision.outcome]
            audit_staff(
                uow,
                staff_id,
                ACTION_ACCEPT,
                now=now,
                outcome=outcome,
                family_id=family_id,
                target=target,
                details={"bulk": True},
            )
            (accepted if decision.outcome == DecisionOutcome.DECIDED else already).append(
                card.request_id
            )
        audit_staff(
            uow,
            staff_id,
            ACTION_ACCEPT_FAMILY,
            now=now,
            outcome="ok" if not failed else ("failed" if not accepted else "partial"),
            family_id=family_id,
            target=f"family:{family.number}",
            details={"accepted": accepted, "failed": failed, "already_decided": already},
        )
        name = display_name(family.guardian(GuardianRole.RESPONSABLE))
        return FamilyAcceptance(name, family.number, tuple(accepted), tuple(failed), tuple(already))
