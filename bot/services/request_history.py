"""Liste des demandes: a family's requests of a period, pending, accepted or refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from bot.domain.model import RequestKind, RequestStatus
from bot.services.requests import RequestDescription, describe_request
from storage.db import UnitOfWork
from storage.models import Request


@dataclass(frozen=True)
class HistoryItem:
    """One request with its description."""

    request: Request
    description: RequestDescription


async def request_history(
    uow: UnitOfWork,
    family_id: int,
    *,
    since: dt.datetime,
    kinds: Collection[RequestKind] | None = None,
) -> list[HistoryItem]:
    """Requests made since `since` and those still pending whatever their age, newest first."""
    recent = list(await uow.repos.requests.of_family(family_id, since))
    seen = {request.id for request in recent}
    older_pending = [
        r for r in await uow.repos.requests.pending_of_family(family_id) if r.id not in seen
    ]
    requests = sorted(recent + older_pending, key=lambda r: (r.created_at, r.id), reverse=True)
    if kinds is not None:
        requests = [r for r in requests if r.kind in kinds]
    return [HistoryItem(request, await describe_request(uow, request)) for request in requests]


def by_status(items: list[HistoryItem], status: RequestStatus) -> list[HistoryItem]:
    """The items with one status, in the given order."""
    return [item for item in items if item.request.status == status]


async def pending_items(
    uow: UnitOfWork, family_id: int, kinds: Collection[RequestKind], *, child_id: int | None = None
) -> list[HistoryItem]:
    """The family's pending requests of some kinds (about one child when given), oldest first."""
    pending = [
        request
        for request in await uow.repos.requests.pending_of_family(family_id)
        if request.kind in kinds and (child_id is None or request.child_id == child_id)
    ]
    return [HistoryItem(request, await describe_request(uow, request)) for request in pending]
