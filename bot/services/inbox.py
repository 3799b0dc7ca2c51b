"""Boîte de réception: messages between a family and the structure, on both sides.

A family writes (text, photo or PDF); the message is saved and queued for the admin group
(`FAMILY_MESSAGE_TEMPLATE`) in one transaction, and a staff member answers by replying to it
there. Structure messages (answers, `/message`, announcements) land in the family's inbox,
unread until opened; an answer or a `/message` is also queued to every linked account of the
family (`STRUCTURE_MESSAGE_TEMPLATE`) in the transaction that stores it. A family may delete a
message: it is only hidden from their lists and stays visible among "deleted messages", as in
the seed portal.

The public functions taking a `Database` are the use cases (one transaction each); those
taking a `UnitOfWork` are building blocks used inside another use case's transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn

from bot.domain.model import GuardianRole, MessageDirection
from bot.services.home import display_name
from bot.services.outbox import tell_family, tell_staff
from bot.services.staff_audit import audit_staff
from bot.services.use_case import NotAllowed, Refused, family_use_case, use_case
from bot.telegram_text import cut
from storage.db import Database, UnitOfWork
from storage.models import Message

ACTION_WRITE = "inbox.write"
ACTION_DELETE = "inbox.delete"
ACTION_ACCESS = "inbox.access"
ACTION_STAFF_REPLY = "inbox.staff_reply"
ACTION_STAFF_MESSAGE = "inbox.staff_message"
FAMILY_MESSAGE_TEMPLATE = "staff.family_message"
"""Outbox template of a family's message shown in the admin group, params {"message_id"}."""
STRUCTURE_MESSAGE_TEMPLATE = "inbox.structure_message"
"""Outbox template of a staff answer or message told to a family's accounts, params {"message_id"}."""
MAX_BODY = 4096
"""Telegram's own limit: a message anyone could type is kept whole (the sender splits what a
header pushes over the limit), never cut."""


class Box(StrEnum):
    """The lists of the inbox."""

    RECEIVED = "received"
    SENT = "sent"
    DELETED = "deleted"


_DIRECTION = {
    Box.RECEIVED: MessageDirection.FROM_STRUCTURE,
    Box.SENT: MessageDirection.FROM_FAMILY,
    Box.DELETED: None,
}


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
    accounts: int = 0
    """Linked accounts the message is queued to."""
    blocked: int = 0
    """Among them, accounts known to have blocked the bot."""


@dataclass(frozen=True)
class StructureMessageView:
    """A structure message as a parent receives it: the message and what it answers."""

    message: Message
    replied_to: Message | None


@dataclass(frozen=True)
class Attachment:
    """A message's file, as stored."""

    file_id: str
    kind: str


class UnknownFamily(Refused):
    """No family has this N° famille (the attempt is audited)."""


def clip(body: str) -> str:
    """A message body within the stored length."""
    body = body.strip()
    return cut(body, MAX_BODY)  # measured as Telegram does


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


async def send_to_structure(
    db: Database,
    telegram_user_id: int,
    *,
    author_name: str,
    body: str,
    now: dt.datetime,
    attachment_file_id: str | None = None,
    attachment_kind: str | None = None,
    reply_to_id: int | None = None,
) -> Message:
    """A parent writes to the structure: the message is saved and queued for the admin group."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        message = await write_to_structure(
            uow,
            family_id=family_id,
            user_id=telegram_user_id,
            author_name=author_name,
            body=body,
            now=now,
            attachment_file_id=attachment_file_id,
            attachment_kind=attachment_kind,
            reply_to_id=reply_to_id,
        )
        await tell_staff(
            uow, FAMILY_MESSAGE_TEMPLATE, {"message_id": message.id}, now=now, family_id=family_id
        )
        return message


async def summary(db: Database, telegram_user_id: int) -> InboxSummary:
    """The inbox's first screen for the account's family."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        return await inbox_summary(uow, family_id)


async def show_box(
    db: Database, telegram_user_id: int, box: Box, page: int, page_size: int = 8
) -> InboxPage:
    """One page of the family's received, sent or deleted messages."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        return await list_box(uow, family_id, box, page, page_size)


async def read_message(
    db: Database, telegram_user_id: int, message_id: int, now: dt.datetime
) -> Thread:
    """Open one of the family's messages (marked read); `NotAllowed` when it is not theirs."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        thread = await open_message(uow, family_id, message_id, now)
        if thread is None:
            await _refuse_access(uow, telegram_user_id, family_id, message_id, now)
        return thread


async def remove_message(
    db: Database, telegram_user_id: int, message_id: int, now: dt.datetime, page_size: int = 8
) -> InboxPage:
    """Delete one of the family's messages; returns the first page of deleted messages."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        if not await delete_message(uow, family_id, message_id, telegram_user_id, now):
            await _refuse_access(uow, telegram_user_id, family_id, message_id, now)
        return await list_box(uow, family_id, Box.DELETED, 0, page_size)


async def attachment_of(
    db: Database, telegram_user_id: int, message_id: int, now: dt.datetime
) -> Attachment:
    """The file of one of the family's messages; `NotAllowed` when it is not theirs or has none."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        message = await owned_message(uow, family_id, message_id)
        if message is None or not message.attachment_file_id:
            await _refuse_access(uow, telegram_user_id, family_id, message_id, now)
        return Attachment(message.attachment_file_id, message.attachment_kind or "document")


async def start_reply(
    db: Database, telegram_user_id: int, message_id: int, now: dt.datetime
) -> Message:
    """↩️ Répondre: the message answered (a structure message is marked read); `NotAllowed` if not theirs."""
    async with family_use_case(db, telegram_user_id) as (uow, family_id):
        target = await owned_message(uow, family_id, message_id)
        if target is None:
            await _refuse_access(uow, telegram_user_id, family_id, message_id, now)
        if target.direction == MessageDirection.FROM_STRUCTURE:
            await open_message(uow, family_id, target.id, now)
        return target


async def _refuse_access(
    uow: UnitOfWork, user_id: int, family_id: int, message_id: int, now: dt.datetime
) -> NoReturn:
    """A message that is not the family's (forged or stale button): audit and refuse."""
    uow.repos.audit.record(
        action=ACTION_ACCESS,
        outcome="refused",
        actor_telegram_id=user_id,
        actor_kind="parent",
        family_id=family_id,
        target=f"message:{message_id}",
        at=now,
    )
    raise NotAllowed()


async def inbox_summary(uow: UnitOfWork, family_id: int) -> InboxSummary:
    """The counts shown on the inbox's first screen."""
    messages = uow.repos.messages
    return InboxSummary(
        unread=await messages.unread_count(family_id),
        received=await messages.count_of_family(
            family_id, direction=MessageDirection.FROM_STRUCTURE, deleted=False
        ),
        sent=await messages.count_of_family(
            family_id, direction=MessageDirection.FROM_FAMILY, deleted=False
        ),
        deleted=await messages.count_of_family(family_id, direction=None, deleted=True),
    )


async def list_box(
    uow: UnitOfWork, family_id: int, box: Box, page: int, page_size: int = 8
) -> InboxPage:
    """One page of received, sent or deleted messages, newest first."""
    direction, deleted = _DIRECTION[box], box == Box.DELETED
    total = await uow.repos.messages.count_of_family(
        family_id, direction=direction, deleted=deleted
    )
    page = max(0, min(page, max(0, (total - 1) // page_size)))
    messages = await uow.repos.messages.of_family(
        family_id, direction=direction, deleted=deleted, limit=page_size, offset=page * page_size
    )
    return InboxPage(box, tuple(messages), page, total, page_size)


async def open_message(
    uow: UnitOfWork, family_id: int, message_id: int, now: dt.datetime
) -> Thread | None:
    """A family's message with its thread, marked read; None when it is not theirs."""
    message = await uow.repos.messages.get(message_id)
    if message is None or message.family_id != family_id:
        return None
    replied_to = await uow.repos.messages.get(message.reply_to_id) if message.reply_to_id else None
    replies = tuple(await uow.repos.messages.replies_to(message.id))
    unread = [
        m.id
        for m in (message, *replies)
        if m.direction == MessageDirection.FROM_STRUCTURE and m.read_at is None
    ]
    await uow.repos.messages.mark_read(unread, now)
    for item in (message, *replies):
        if item.id in unread:
            item.read_at = now
    return Thread(message, replied_to, replies)


async def delete_message(
    uow: UnitOfWork, family_id: int, message_id: int, user_id: int, now: dt.datetime
) -> bool:
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


async def family_message_view(db: Database, message_id: int) -> RelayView | None:
    """What the admin group shows of a family message (None when it does not exist)."""
    async with use_case(db) as uow:
        message = await uow.repos.messages.get(message_id)
        if message is None or message.direction != MessageDirection.FROM_FAMILY:
            return None
        return await relay_view(uow, message)


async def structure_message_view(db: Database, message_id: int) -> StructureMessageView | None:
    """A structure message as its family receives it (None when it does not exist)."""
    async with use_case(db) as uow:
        message = await uow.repos.messages.get(message_id)
        if message is None or message.direction != MessageDirection.FROM_STRUCTURE:
            return None
        replied_to = (
            await uow.repos.messages.get(message.reply_to_id) if message.reply_to_id else None
        )
        return StructureMessageView(message, replied_to)


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
    """Remember the admin group message showing a family message (staff answer by replying to it)."""
    message = await uow.repos.messages.get(message_id)
    if message is not None:
        message.admin_message_id = admin_message_id


async def reply_from_staff(
    db: Database,
    *,
    admin_message_id: int,
    staff_id: int,
    staff_name: str,
    body: str,
    now: dt.datetime,
    attachment_file_id: str | None = None,
    attachment_kind: str | None = None,
) -> StaffMessage | None:
    """A staff reply to the family message shown as `admin_message_id`: store it and tell the family.

    None when that admin group message shows no family message (nothing is done).
    """
    async with use_case(db) as uow:
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
        return dataclasses.replace(sent, replied_to=original)


async def message_family(
    db: Database, *, family_number: str, staff_id: int, staff_name: str, body: str, now: dt.datetime
) -> StaffMessage:
    """`/message N_FAMILLE texte`: write to one family; `UnknownFamily` (audited) for a wrong number."""
    async with use_case(db) as uow:
        family = await uow.repos.families.get_by_number(family_number)
        if family is None:
            audit_staff(
                uow,
                staff_id,
                ACTION_STAFF_MESSAGE,
                now=now,
                outcome="refused",
                target=f"family:{family_number}",
            )
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
    audit_staff(
        uow,
        staff_id,
        action,
        now=now,
        family_id=family_id,
        target=f"message:{message.id}",
        details={"attachment": attachment_kind or ""},
    )
    accounts = await tell_family(
        uow, family_id, STRUCTURE_MESSAGE_TEMPLATE, {"message_id": message.id}, now=now
    )
    blocked = [
        user
        for _link, user in await uow.repos.telegram.links_of_family_with_users(family_id)
        if user.unreachable_since
    ]
    family = await uow.repos.families.get(family_id)
    return StaffMessage(
        message=message,
        family_id=family_id,
        family_number=family.number if family else "?",
        family_name=display_name(family.guardian(GuardianRole.RESPONSABLE)) if family else "",
        accounts=accounts,
        blocked=len(blocked),
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
