"""Telling people because of a change: outbox rows written in the change's own transaction.

A service that changes something someone must hear about calls `tell_family`, `tell_account`
or `tell_staff` with the unit of work it is about to commit. Nothing is sent here: the rows
commit (or roll back) with the change, and `bot.sender` delivers them afterwards, rendering
each template in the recipient's language. Templates are registered in the conversations
layer (`bot.outgoing.template`); params must be plain JSON values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import IntEnum
from typing import Any

from storage.db import UnitOfWork
from storage.outbox_repository import NewMessage

ACCOUNT, STAFF = "account", "staff"


class Priority(IntEnum):
    """Which rows the sender takes first (lower first)."""

    NOTICE = 0
    """The consequence of someone's action: a card, a decision, a freed place, a relay."""
    REMINDER = 1
    """A reminder, a digest, a headcount."""
    BROADCAST = 2
    """An announcement or a notice to many families."""


async def tell_account(
    uow: UnitOfWork,
    chat_id: int,
    template: str,
    params: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime,
    language: str | None = None,
    family_id: int | None = None,
    priority: Priority = Priority.NOTICE,
    dedupe_key: str | None = None,
    expires_at: dt.datetime | None = None,
) -> NewMessage:
    """Queue one message to one Telegram chat."""
    message = new_message(
        ACCOUNT,
        chat_id,
        template,
        params,
        now=now,
        language=language,
        family_id=family_id,
        priority=priority,
        dedupe_key=dedupe_key,
        expires_at=expires_at,
    )
    await _queue(uow, [message])
    return message


async def tell_family(
    uow: UnitOfWork,
    family_id: int,
    template: str,
    params: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime,
    priority: Priority = Priority.NOTICE,
    except_accounts: Iterable[int] = (),
) -> int:
    """Queue a message to every account linked to the family, each in its language.

    Returns how many accounts will be told (0 when nobody of the family uses the bot).
    """
    skipped = set(except_accounts)
    recipients = [
        (user_id, language)
        for user_id, language in await uow.repos.telegram.recipients_of_family(family_id)
        if user_id not in skipped
    ]
    await _queue(
        uow,
        [
            new_message(
                ACCOUNT,
                user_id,
                template,
                params,
                now=now,
                language=language,
                family_id=family_id,
                priority=priority,
            )
            for user_id, language in recipients
        ],
    )
    return len(recipients)


async def tell_staff(
    uow: UnitOfWork,
    template: str,
    params: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime,
    family_id: int | None = None,
    priority: Priority = Priority.NOTICE,
    dedupe_key: str | None = None,
    expires_at: dt.datetime | None = None,
) -> NewMessage:
    """Queue a message to the staff's admin group (in the staff's language)."""
    message = new_message(
        STAFF,
        None,
        template,
        params,
        now=now,
        family_id=family_id,
        priority=priority,
        dedupe_key=dedupe_key,
        expires_at=expires_at,
    )
    await _queue(uow, [message])
    return message


def new_message(
    audience: str,
    chat_id: int | None,
    template: str,
    params: Mapping[str, Any] | None,
    *,
    now: dt.datetime,
    language: str | None = None,
    family_id: int | None = None,
    priority: Priority = Priority.NOTICE,
    dedupe_key: str | None = None,
    expires_at: dt.datetime | None = None,
) -> NewMessage:
    """One outbox row, due now (for `queue_many` when many are prepared at once)."""
    return NewMessage(
        audience=audience,
        chat_id=chat_id,
        template=template,
        params=dict(params or {}),
        language=language,
        priority=int(priority),
        available_at=now,
        family_id=family_id,
        expires_at=expires_at,
        dedupe_key=dedupe_key,
    )


async def queue_many(uow: UnitOfWork, messages: list[NewMessage]) -> None:
    """Queue prepared rows (e.g. an announcement to every family)."""
    await _queue(uow, messages)


async def _queue(uow: UnitOfWork, messages: list[NewMessage]) -> None:
    if messages:
        await uow.repos.outbox.add(messages)
        uow.outbox_written = True


def plain(value: Any) -> Any:
    """`value` as JSON for outbox params: dates, instants and amounts keep their type."""
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def revive(value: Any) -> Any:
    """The values `plain` wrote, back to dates, instants and amounts (lists stay lists)."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, item),) = value.items()
            if key == "$datetime":
                return dt.datetime.fromisoformat(item)
            if key == "$date":
                return dt.date.fromisoformat(item)
            if key == "$decimal":
                return Decimal(item)
        return {key: revive(item) for key, item in value.items()}
    if isinstance(value, list):
        return [revive(item) for item in value]
    return value
