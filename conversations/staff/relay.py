"""Boîte de réception, staff side: family messages shown in the admin group, answers, /message.

A family's message is posted in the group with the family's name and number; a staff member
answers by replying to it, and the answer goes to every linked account of the family and into
its inbox. `/message N_FAMILLE texte` writes to a family unprompted.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseHandler, CommandHandler

from bot import callbacks
from bot.domain.staff_input import parse_family_number
from bot.i18n import _, format_timestamp, ngettext
from bot.runtime import Runtime, get_runtime
from bot.services import inbox as inbox_service
from bot.services.inbox import NOT_RELAYABLE, RelayView, StaffMessage
from conversations.common import TAB_INBOX, escape
from conversations.notify import Attachment, DeliveryReport, notify_family
from conversations.staff import outbox as outbox_module
from conversations.staff.cards import group_unavailable
from conversations.staff.common import Context, command_text, staff_action, staff_language, staff_name
from conversations.staff.outbox import GROUP_BUDGET_PER_MINUTE, RETRY_SECONDS, AdminOutbox
from conversations.staff.render import CAPTION_LIMIT, relay_text

logger = logging.getLogger(__name__)

_TRANSIENT = (NetworkError, TimedOut, RetryAfter)


async def relay_parent_message(bot: Any, runtime: Runtime, message_id: int) -> None:
    """Show a newly committed family message in the admin group (queued when the group is busy)."""
    try:
        await outbox_module.flush(bot, runtime, scheduled=False)
    except Exception as exc:  # noqa: BLE001 - the parent's dialogue must go on; the relay is retried
        logger.error("could not relay message %s: %s", message_id, type(exc).__name__)
        outbox_module.get_outbox(runtime).schedule(RETRY_SECONDS)


async def flush_relays(bot: Any, runtime: Runtime, outbox: AdminOutbox) -> None:
    """Post waiting family messages one by one, as the budget allows."""
    chat_id = runtime.settings.admin_chat_id
    if chat_id is None:
        return
    async with runtime.database.unit_of_work() as uow:
        views = await inbox_service.unrelayed(uow, GROUP_BUDGET_PER_MINUTE)
    for view in views:
        if outbox.budget.free() == 0:
            outbox.schedule(outbox.budget.wait_time())
            return
        try:
            with staff_language():
                posted: Message | None = await _post(bot, runtime, chat_id, view)
        except _TRANSIENT as exc:
            logger.warning("message %s not relayed yet: %s", view.message.id, type(exc).__name__)
            outbox.schedule(RETRY_SECONDS)
            return
        except (Forbidden, BadRequest) as exc:
            if group_unavailable(exc):
                logger.error("the bot cannot post in the admin group (ADMIN_CHAT_ID wrong, bot removed?); messages wait")
                outbox.schedule(RETRY_SECONDS * 10)
                return
            logger.error("Telegram refused to relay message %s: %s", view.message.id, type(exc).__name__)
            posted = None
        if posted is not None:
            outbox.budget.spend()
        async with runtime.database.unit_of_work() as uow:
            await inbox_service.mark_relayed(uow, view.message.id, posted.message_id if posted else NOT_RELAYABLE)
            await uow.commit()
    if len(views) == GROUP_BUDGET_PER_MINUTE:
        outbox.schedule(max(1.0, outbox.budget.wait_time()))


async def _post(bot: Any, runtime: Runtime, chat_id: int, view: RelayView) -> Message:
    tz = runtime.settings.tz
    message = view.message
    if message.attachment_file_id and message.attachment_kind == "photo":
        return await bot.send_photo(chat_id, message.attachment_file_id, caption=relay_text(view, tz, CAPTION_LIMIT))
    if message.attachment_file_id:
        return await bot.send_document(chat_id, message.attachment_file_id, caption=relay_text(view, tz, CAPTION_LIMIT))
    return await bot.send_message(chat_id, relay_text(view, tz))


async def is_relayed_message(runtime: Runtime, admin_message_id: int) -> bool:
    """True when this admin group message shows a family message (so a reply answers it)."""
    async with runtime.database.unit_of_work() as uow:
        return await inbox_service.is_relayed(uow, admin_message_id)


def parent_keyboard(message_id: int) -> InlineKeyboardMarkup:
    """Under a structure message: reply, or open the inbox."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("↩️ Reply"), callback_data=callbacks.build(callbacks.INBOX, "reply", message_id)),
                InlineKeyboardButton(_("✉️ Inbox"), callback_data=callbacks.build(callbacks.MENU, TAB_INBOX)),
            ]
        ]
    )


def structure_message_text(runtime: Runtime, sent: StaffMessage, replied_body: str | None, replied_at: Any) -> str:
    """What a parent reads of a staff answer or message (in the parent's language)."""
    sender = escape(runtime.structure.service_name or runtime.structure.name)
    if replied_body is not None:
        lines = [
            _("✉️ <b>Answer from {sender}</b>").format(sender=sender),
            _("To your message of {moment}: “{quote}”").format(
                moment=format_timestamp(replied_at, runtime.settings.tz),
                quote=escape(_short(replied_body, 80)),
            ),
        ]
    else:
        lines = [_("✉️ <b>Message from {sender}</b>").format(sender=sender)]
    return "\n".join(lines) + "\n\n" + escape(sent.message.body)


def _short(text: str, size: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


async def _deliver(
    context: Context, runtime: Runtime, sent: StaffMessage, replied_body: str | None, replied_at: Any
) -> DeliveryReport:
    attachment = None
    if sent.message.attachment_file_id:
        attachment = Attachment(sent.message.attachment_file_id, sent.message.attachment_kind or "document")
    return await notify_family(
        context.bot,
        runtime,
        sent.family_id,
        lambda: structure_message_text(runtime, sent, replied_body, replied_at),
        keyboard=lambda: parent_keyboard(sent.message.id),
        attachment=attachment,
    )


def delivery_text(sent: StaffMessage, report: DeliveryReport) -> str:
    """Told to staff after writing to a family."""
    family = _("{name} family (no. {number})").format(name=escape(sent.family_name or "—"), number=escape(sent.family_number))
    if report.reached:
        text = ngettext(
            "✅ Sent to the {family}: {count} account.",
            "✅ Sent to the {family}: {count} accounts.",
            len(report.reached),
        ).format(family=family, count=len(report.reached))
    else:
        text = _("📭 The {family} has no reachable Telegram account: the message waits in its inbox.").format(family=family)
    if report.unreachable:
        text += "\n" + ngettext(
            "⚠️ {count} account has blocked the bot.", "⚠️ {count} accounts have blocked the bot.", len(report.unreachable)
        ).format(count=len(report.unreachable))
    return text


@staff_action("staff.reply_family")
async def answer_family(update: Update, context: Context) -> None:
    """A staff reply to a family message in the group: send it to the family."""
    message = update.effective_message
    if message is None or message.reply_to_message is None:
        return
    body = message.text or message.caption or ""
    attachment_id, attachment_kind = None, None
    if message.photo:
        attachment_id, attachment_kind = message.photo[-1].file_id, "photo"
    elif message.document:
        attachment_id, attachment_kind = message.document.file_id, "document"
    if not body.strip() and attachment_id is None:
        await message.reply_text(_("Only a text, a photo or a document can be sent to a family."))
        return
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        sent = await inbox_service.reply_from_staff(
            uow,
            admin_message_id=message.reply_to_message.message_id,
            staff_id=update.effective_user.id if update.effective_user else 0,
            staff_name=staff_name(update.effective_user),
            body=body,
            now=runtime.now(),
            attachment_file_id=attachment_id,
            attachment_kind=attachment_kind,
        )
        await uow.commit()
    if sent is None:
        return
    original = sent.replied_to
    report = await _deliver(context, runtime, sent, original.body if original else "", original.created_at if original else None)
    await message.reply_text(delivery_text(sent, report))


@staff_action("staff.message_family")
async def message_family(update: Update, context: Context) -> None:
    """/message N_FAMILLE texte: write to one family."""
    message = update.effective_message
    if message is None:
        return
    words = command_text(update).split(maxsplit=1)
    number = parse_family_number(words[0]) if words else None
    if number is None or len(words) < 2 or not words[1].strip():
        await message.reply_text(_("Usage: /message FAMILY_NUMBER text\nExample: /message 1001001818331 The bus leaves at 8:00."))
        return
    runtime = get_runtime(context)
    try:
        async with runtime.database.unit_of_work() as uow:
            sent = await inbox_service.message_family(
                uow,
                family_number=number,
                staff_id=update.effective_user.id if update.effective_user else 0,
                staff_name=staff_name(update.effective_user),
                body=words[1],
                now=runtime.now(),
            )
            await uow.commit()
    except inbox_service.UnknownFamily:
        await message.reply_text(_("No family has the number {number}.").format(number=escape(number)))
        return
    report = await _deliver(context, runtime, sent, None, None)
    await message.reply_text(delivery_text(sent, report))


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """/message (replies in the group are routed by `conversations.staff.group_replies`)."""
    return [CommandHandler("message", message_family)]
