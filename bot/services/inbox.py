"""Boîte de réception: messages between a family and the structure, on both sides.

A family writes (text, photo or PDF); the message is shown in the admin group, where a staff
member answers by replying to it. Structure messages (answers, `/message`, announcements) land
in the family's inbox, unread until opened. A family may delete a message: it is only hidden
from their lists and stays visible among "deleted messages", as in the seed portal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.model import GuardianRole, MessageDirection
from bot.services.home import display_name
from storage.db import UnitOfWork
from storage.models import Message

ACTION_WRITE = "inbox.write"
ACTION_DELETE = "inbox.delete"
ACTION_STAFF_REPLY = "inbox.staff_reply"
ACTION_STAFF_MESSAGE = "inbox.staff_message"
MAX_BODY = 4000
NOT_RELAYABLE = 0
"""admin_message_id of a family message Telegram refused for good (it is not retried)."""


class Box(StrEnum):
    """The lists of the inbox."""

    RECEIVED = "received"
    SENT = "sent"
    DELETED = "deleted"


_DIRECTION = {Box.RECEIVED: MessageDirection.FROM_STRUCTURE, Box.SENT: MessageDirection.FROM_FAMILY, Box.DELETED: None}


@dataclass(frozen=True)
class InboxSummary:
    """How many messages each list holds."""

    unread: int
    received: int
    sent: int
    deleted: int


@dataclass(frozen=True)
class InboxPage:
    """One page of a list, newest first."""

    box: Box
    messages: tuple[Message, ...]
    page: int
    total: int
    page_size: int

    @property
    def has_next(self) -> bool:
        """True when older messages follow."""
        return (self.page + 1) * self.page_size < self.total


@dataclass(frozen=True)
class Thread:
    """A message opened by the family, with what it answers and the answers to it."""

    message: Message
    replied_to: Message | None
    replies: tuple[Message, ...]


@dataclass(frozen=True)
class RelayView:
    """A family message as the admin group shows it."""

    message: Message
    family_number: str
    family_name: str
    replied_to: Message | None


@dataclass(frozen=True)
class StaffMessage:
    """A message written by staff to a family, stored in the family's inbox."""

    message: Message
    family_id: int
    family_number: str
    family_name: str
    replied_to: Message | None = None


class UnknownFamily(LookupError):
    """No family has this N° famille."""


def clip(body: str) -> str:
    """A message body within the stored length."""
    body = body.strip()
    return body if len(body) <= MAX_BODY else body[: MAX_BODY - 1] + "…"


async def write_to_structure(
    uow: UnitOfWork,
    *,
    family_id: int,
    user_id: int,
    author_name: str,
    body: str,
    now: dt.datetime,
    attachment_file_id: str | None = None,
    attachment_kind: str | None = None,
    reply_to_id: int | None = None,
) -> Message:
    """Record a family's message to the structure; a reply must answer one of their messages."""
    if reply_to_id is not None:
        target = await uow.repos.messages.get(reply_to_id)
        if target is None or target.family_id != family_id:
            reply_to_id = None
    message = Message(
        family_id=family_id,
        direction=MessageDirection.FROM_FAMILY,
        body=clip(body),
        reply_to_id=reply_to_id,
        author_telegram_id=user_id,
        author_name=author_name[:120],
        attachment_file_id=attachment_file_id,
        attachment_kind=attachment_kind,
        created_at=now,
        read_at=now,  # the family's own message is never "new" to them
    )
    uow.repos.messages.add(message)
    await uow.session.flush()
    uow.repos.audit.record(
        action=ACTION_WRITE,
        outcome="ok",
        actor_telegram_id=user_id,
        actor_kind="parent",
        family_id=family_id,
        target=f"message:{message.id}",
        details={"attachment": attachment_kind or "", "reply": reply_to_id is not None},
        at=now,
    )
    return message


async def inbox_summary(uow: UnitOfWork, family_id: int) -> InboxSummary:
    """The counts shown on the inbox's first screen."""
    messages = uow.repos.messages
    return InboxSummary(
        unread=await messages.unread_count(family_id),
        received=await messages.count_of_family(family_id, direction=MessageDirection.FROM_STRUCTURE, deleted=False),
        sent=await messages.count_of_family(family_id, direction=MessageDirection.FROM_FAMILY, deleted=False),
        deleted=await messages.count_of_family(family_id, direction=None, deleted=True),
    )


async def list_box(uow: UnitOfWork, family_id: int, box: Box, page: int, page_size: int = 8) -> InboxPage:
    """One page of received, sent or deleted messages, newest first."""
    direction, deleted = _DIRECTION[box], box == Box.DELETED
    total = await uow.repos.messages.count_of_family(family_id, direction=direction, deleted=deleted)
    page = max(0, min(page, max(0, (total - 1) // page_size)))
    messages = await uow.repos.messages.of_family(
        family_id, direction=direction, deleted=deleted, limit=page_size, offset=page * page_size
    )
    return InboxPage(box, tuple(messages), page, total, page_size)


async def open_message(uow: UnitOfWork, family_id: int, message_id: int, now: dt.datetime) -> Thread | None:
    """A family's message with its thread, marked read; None when it is not theirs."""
    message = await uow.repos.messages.get(message_id)
    if message is None or message.family_id != family_id:
        return None
    replied_to = await uow.repos.messages.get(message.reply_to_id) if message.reply_to_id else None
    replies = tuple(await uow.repos.messages.replies_to(message.id))
    unread = [m.id for m in (message, *replies) if m.direction == MessageDirection.FROM_STRUCTURE and m.read_at is None]
    await uow.repos.messages.mark_read(unread, now)
    for item in (message, *replies):
        if item.id in unread:
            item.read_at = now
    return Thread(message, replied_to, replies)


async def delete_message(uow: UnitOfWork, family_id: int, message_id: int, user_id: int, now: dt.datetime) -> bool:
    """Hide a message from the family's lists (kept among deleted messages); idempotent."""
    message = await uow.repos.messages.get(message_id)
    if message is None or message.family_id != family_id:
        return False
    if message.deleted_at is None:
        message.deleted_at = now
        if message.read_at is None:
            message.read_at = now
        uow.repos.audit.record(
            action=ACTION_DELETE,
            outcome="ok",
            actor_telegram_id=user_id,
            actor_kind="parent",
            family_id=family_id,
            target=f"message:{message.id}",
            at=now,
        )
    return True


async def owned_message(uow: UnitOfWork, family_id: int, message_id: int) -> Message | None:
    """The message when it belongs to the family, else None (the ownership check)."""
    message = await uow.repos.messages.get(message_id)
    return message if message is not None and message.family_id == family_id else None


async def unrelayed(uow: UnitOfWork, limit: int) -> list[RelayView]:
    """Family messages not yet shown in the admin group, oldest first."""
    return [await relay_view(uow, message) for message in await uow.repos.messages.unrelayed(limit)]


async def relay_view(uow: UnitOfWork, message: Message) -> RelayView:
    """What the admin group shows of a family message."""
    family = await uow.repos.families.get(message.family_id)
    replied_to = await uow.repos.messages.get(message.reply_to_id) if message.reply_to_id else None
    return RelayView(
        message=message,
        family_number=family.number if family else "?",
        family_name=display_name(family.guardian(GuardianRole.RESPONSABLE)) if family else "",
        replied_to=replied_to,
    )


async def mark_relayed(uow: UnitOfWork, message_id: int, admin_message_id: int) -> None:
    """Remember the admin group message showing a family message (NOT_RELAYABLE: given up)."""
    message = await uow.repos.messages.get(message_id)
    if message is not None:
        message.admin_message_id = admin_message_id


async def reply_from_staff(
    uow: UnitOfWork,
    *,
    admin_message_id: int,
    staff_id: int,
    staff_name: str,
    body: str,
    now: dt.datetime,
    attachment_file_id: str | None = None,
    attachment_kind: str | None = None,
) -> StaffMessage | None:
    """Answer the family message shown as `admin_message_id`; None when it is not one."""
    original = await uow.repos.messages.by_admin_message(admin_message_id)
    if original is None:
        return None
    sent = await _from_structure(
        uow,
        family_id=original.family_id,
        staff_id=staff_id,
        staff_name=staff_name,
        body=body,
        now=now,
        reply_to_id=original.id,
        attachment_file_id=attachment_file_id,
        attachment_kind=attachment_kind,
        action=ACTION_STAFF_REPLY,
    )
    return StaffMessage(sent.message, sent.family_id, sent.family_number, sent.family_name, replied_to=original)


async def is_relayed(uow: UnitOfWork, admin_message_id: int) -> bool:
    """True when this admin group message shows a family message (a reply to it answers them)."""
    return await uow.repos.messages.by_admin_message(admin_message_id) is not None


async def message_family(
    uow: UnitOfWork, *, family_number: str, staff_id: int, staff_name: str, body: str, now: dt.datetime
) -> StaffMessage:
    """`/message N_FAMILLE texte`: write to one family; raise UnknownFamily."""
    family = await uow.repos.families.get_by_number(family_number)
    if family is None:
        raise UnknownFamily(family_number)
    return await _from_structure(
        uow,
        family_id=family.id,
        staff_id=staff_id,
        staff_name=staff_name,
        body=body,
        now=now,
        reply_to_id=None,
        action=ACTION_STAFF_MESSAGE,
    )


async def _from_structure(
    uow: UnitOfWork,
    *,
    family_id: int,
    staff_id: int,
    staff_name: str,
    body: str,
    now: dt.datetime,
    reply_to_id: int | None,
    action: str,
    attachment_file_id: str | None = None,
    attachment_kind: str | None = None,
    subject: str | None = None,
) -> StaffMessage:
    message = Message(
        family_id=family_id,
        direction=MessageDirection.FROM_STRUCTURE,
        subject=subject,
        body=clip(body),
        reply_to_id=reply_to_id,
        author_telegram_id=staff_id,
        author_name=staff_name[:120],
        attachment_file_id=attachment_file_id,
        attachment_kind=attachment_kind,
        created_at=now,
    )
    uow.repos.messages.add(message)
    await uow.session.flush()
    uow.repos.audit.record(
        action=action,
        outcome="ok",
        actor_telegram_id=staff_id,
        actor_kind="staff",
        family_id=family_id,
        target=f"message:{message.id}",
        details={"attachment": attachment_kind or ""},
        at=now,
    )
    family = await uow.repos.families.get(family_id)
    return StaffMessage(
        message=message,
        family_id=family_id,
        family_number=family.number if family else "?",
        family_name=display_name(family.guardian(GuardianRole.RESPONSABLE)) if family else "",
    )


async def store_structure_message(
    uow: UnitOfWork,
    *,
    family_id: int,
    staff_id: int | None,
    staff_name: str,
    body: str,
    subject: str | None,
    now: dt.datetime,
) -> Message:
    """Put a structure message (announcement, closure notice) in a family's inbox; the caller audits."""
    message = Message(
        family_id=family_id,
        direction=MessageDirection.FROM_STRUCTURE,
        subject=subject,
        body=clip(body),
        author_telegram_id=staff_id,
        author_name=staff_name[:120],
        created_at=now,
    )
    uow.repos.messages.add(message)
    return message
