"""Boîte de réception, the parents' side: write to the structure, read replies and messages,
delete a message (kept among "deleted messages").

Writing is a small persistent dialogue in its own handler group (`COMPOSE_GROUP`): after
"✍️ Écrire", the next text, photo or PDF goes to the structure. Pressing any other button or
sending a command leaves it, so a parent who changes their mind never sends by mistake.
"""

from __future__ import annotations

import datetime as dt
import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import callbacks
from bot.domain.model import MessageDirection
from bot.i18n import _, format_timestamp, ngettext
from bot.runtime import Runtime, get_runtime
from bot.services import inbox as inbox_service
from bot.services.announcements import SUBJECT as ANNOUNCEMENT_SUBJECT
from bot.services.inbox import Box, InboxPage, InboxSummary, Thread
from bot.services.staff_day import CLOSURE_SUBJECT
from conversations.common import TAB_INBOX, Context, escape, linked_family, show
from conversations.staff.relay import relay_parent_message
from storage.models import Message

COMPOSE_GROUP = -1
"""Handler group of the writing dialogue: between the language middleware and the dialogues."""
COMPOSING = "composing"
REPLY_TO_KEY = "inbox_reply_to"
PRIVATE = filters.ChatType.PRIVATE
_BOXES = {"rcv": Box.RECEIVED, "snt": Box.SENT, "del": Box.DELETED}
_BOX_CODES = {box: code for code, box in _BOXES.items()}
PAGE_SIZE = 8


def _button(label: str, operation: str, number: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.build(callbacks.INBOX, operation, number))


def _home_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))


# --- the inbox's screens ---------------------------------------------------------------------


async def show_inbox(update: Update, context: Context) -> None:
    """✉️ Boîte de réception: counts and what can be done."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    family_id = await linked_family(update, context)
    if family_id is None:
        return
    async with get_runtime(context).database.unit_of_work() as uow:
        summary = await inbox_service.inbox_summary(uow, family_id)
    await show(update, inbox_text(summary), inbox_keyboard(summary))


def inbox_text(summary: InboxSummary) -> str:
    """The inbox's first screen."""
    return "\n".join(
        [
            _("✉️ <b>Inbox</b>"),
            ngettext("You have {count} new message.", "You have {count} new messages.", summary.unread).format(
                count=summary.unread
            ),
            "",
            _("From here you can write to the structure, read the messages it sent you and its answers, and see the messages you deleted."),
        ]
    )


def inbox_keyboard(summary: InboxSummary) -> InlineKeyboardMarkup:
    """Write, the three lists, home."""
    return InlineKeyboardMarkup(
        [
            [_button(_("✍️ Write to the structure"), "write")],
            [
                _button(_("📥 Received ({count})").format(count=summary.received), "rcv"),
                _button(_("📤 Sent ({count})").format(count=summary.sent), "snt"),
            ],
            [_button(_("🗑 Deleted messages ({count})").format(count=summary.deleted), "del")],
            [_home_button()],
        ]
    )


async def on_button(update: Update, context: Context) -> None:
    """The inbox's buttons: lists, opening, deleting, attachments."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None:
        return
    operation, number = parsed.arg(0), parsed.int_arg(1)
    if number is None:
        await query.answer(_("This button is no longer valid."))
        return
    if operation == "home":
        await show_inbox(update, context)
        return
    family_id = await linked_family(update, context)
    if family_id is None:
        return
    runtime = get_runtime(context)
    if operation in _BOXES:
        await query.answer()
        async with runtime.database.unit_of_work() as uow:
            page = await inbox_service.list_box(uow, family_id, _BOXES[operation], number, PAGE_SIZE)
        await show(update, list_text(page), list_keyboard(page, runtime.settings.tz))
        return
    if operation == "open":
        async with runtime.database.unit_of_work() as uow:
            thread = await inbox_service.open_message(uow, family_id, number, runtime.now())
            await uow.commit()
        if thread is None:
            await _refuse_foreign(update, context, family_id, number)
            return
        await query.answer()
        await show(update, thread_text(thread, runtime), thread_keyboard(thread))
        return
    if operation == "rm":
        async with runtime.database.unit_of_work() as uow:
            deleted = await inbox_service.delete_message(uow, family_id, number, query.from_user.id, runtime.now())
            await uow.commit()
            page = await inbox_service.list_box(uow, family_id, Box.DELETED, 0, PAGE_SIZE) if deleted else None
        if not deleted or page is None:
            await _refuse_foreign(update, context, family_id, number)
            return
        await query.answer(_("Message deleted. It stays among your deleted messages."))
        await show(update, list_text(page), list_keyboard(page, runtime.settings.tz))
        return
    if operation == "att":
        async with runtime.database.unit_of_work() as uow:
            message = await inbox_service.owned_message(uow, family_id, number)
        if message is None or not message.attachment_file_id:
            await _refuse_foreign(update, context, family_id, number)
            return
        await query.answer()
        chat = update.effective_chat
        if chat is not None:
            if message.attachment_kind == "photo":
                await chat.send_photo(message.attachment_file_id)
            else:
                await chat.send_document(message.attachment_file_id)
        return
    await query.answer(_("This button is no longer valid."))


async def _refuse_foreign(update: Update, context: Context, family_id: int, message_id: int) -> None:
    """A message that is not the family's (forged or stale button): refuse and audit."""
    runtime = get_runtime(context)
    user = update.effective_user
    async with runtime.database.unit_of_work() as uow:
        uow.repos.audit.record(
            action="inbox.access",
            outcome="refused",
            actor_telegram_id=user.id if user else None,
            actor_kind="parent",
            family_id=family_id,
            target=f"message:{message_id}",
            at=runtime.now(),
        )
        await uow.commit()
    if update.callback_query is not None:
        await update.callback_query.answer(_("This message is not available."), show_alert=True)


def _title(box: Box) -> str:
    return {
        Box.RECEIVED: _("📥 <b>Messages received</b>"),
        Box.SENT: _("📤 <b>Messages sent</b>"),
        Box.DELETED: _("🗑 <b>Deleted messages</b>"),
    }[box]


def list_text(page: InboxPage) -> str:
    """A list's heading; each message is a button below."""
    if not page.messages:
        return _title(page.box) + "\n\n" + _("No message.")
    pages = max(1, (page.total + page.page_size - 1) // page.page_size)
    lines = [_title(page.box) + (f" ({page.page + 1}/{pages})" if pages > 1 else "")]
    if page.box == Box.RECEIVED:
        lines.append(_("🔵 marks a new message."))
    lines.append(_("Choose a message to read it:"))
    return "\n".join(lines)


def list_keyboard(page: InboxPage, tz: dt.tzinfo) -> InlineKeyboardMarkup:
    """One button per message, then paging and the way back."""
    rows = [[_button(_message_label(message, tz), "open", message.id)] for message in page.messages]
    paging = []
    code = _BOX_CODES[page.box]
    if page.page > 0:
        paging.append(_button(_("⬅️ Newer"), code, page.page - 1))
    if page.has_next:
        paging.append(_button(_("Older ➡️"), code, page.page + 1))
    if paging:
        rows.append(paging)
    rows.append([_button(_("✉️ Back to the inbox"), "home")])
    return InlineKeyboardMarkup(rows)


def _message_label(message: Message, tz: dt.tzinfo) -> str:
    mark = "🔵 " if message.direction == MessageDirection.FROM_STRUCTURE and message.read_at is None else ""
    arrow = "📥" if message.direction == MessageDirection.FROM_STRUCTURE else "📤"
    when = format_timestamp(message.created_at, tz)[:5]
    text = _preview(message)
    label = f"{mark}{arrow} {when} {text}"
    return label if len(label) <= 60 else label[:59] + "…"


def _preview(message: Message) -> str:
    prefix = ""
    if message.subject == ANNOUNCEMENT_SUBJECT:
        prefix = "📢 "
    elif message.subject == CLOSURE_SUBJECT:
        prefix = "🚫 "
    elif message.reply_to_id is not None and message.direction == MessageDirection.FROM_STRUCTURE:
        prefix = "↩️ "
    body = " ".join(message.body.split())
    if not body and message.attachment_file_id:
        body = _("Photo") if message.attachment_kind == "photo" else _("Document")
    return prefix + body


def _sender(message: Message, structure_name: str) -> str:
    if message.direction == MessageDirection.FROM_FAMILY:
        return _("You")
    return structure_name


def thread_text(thread: Thread, runtime: Runtime) -> str:
    """A message, what it answers, and the answers to it."""
    structure, tz = runtime.structure, runtime.settings.tz
    name = escape(structure.service_name or structure.name)
    message = thread.message
    if message.direction == MessageDirection.FROM_FAMILY:
        heading = _("📤 <b>Your message</b> of {moment}")
    elif message.subject == ANNOUNCEMENT_SUBJECT:
        heading = _("📢 <b>Announcement from {sender}</b>, {moment}")
    elif message.subject == CLOSURE_SUBJECT:
        heading = _("🚫 <b>Closure notice from {sender}</b>, {moment}")
    else:
        heading = _("📥 <b>Message from {sender}</b>, {moment}")
    lines = [heading.format(sender=name, moment=format_timestamp(message.created_at, tz))]
    if thread.replied_to is not None:
        lines.append(
            _("↪️ In reply to the message of {moment}: “{quote}”").format(
                moment=format_timestamp(thread.replied_to.created_at, tz), quote=escape(_short(thread.replied_to.body, 100))
            )
        )
    lines += ["", escape(_short(message.body, 2500)) if message.body else "—"]
    if message.attachment_file_id:
        lines.append(_("📎 Attachment"))
    if thread.replies:
        lines += ["", _("<b>Answers</b>")]
        for reply in thread.replies:
            lines.append(
                f"↩️ {format_timestamp(reply.created_at, tz)} — {escape(_sender(reply, name))}: "
                f"{escape(_short(reply.body, 600))}"
            )
    if message.deleted_at is not None:
        lines += ["", _("🗑 Deleted on {moment}").format(moment=format_timestamp(message.deleted_at, tz))]
    return "\n".join(lines)


def _short(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def thread_keyboard(thread: Thread) -> InlineKeyboardMarkup:
    """Reply (to the structure's messages), attachment, delete, back."""
    message = thread.message
    rows = []
    if message.direction == MessageDirection.FROM_STRUCTURE:
        rows.append([_button(_("↩️ Reply"), "reply", message.id)])
    if message.attachment_file_id:
        rows.append([_button(_("📎 See the attachment"), "att", message.id)])
    if message.deleted_at is None:
        rows.append([_button(_("🗑 Delete"), "rm", message.id)])
    box = Box.DELETED if message.deleted_at is not None else (
        Box.RECEIVED if message.direction == MessageDirection.FROM_STRUCTURE else Box.SENT
    )
    rows.append([_button(_("⬅️ Back to the list"), _BOX_CODES[box]), _button(_("✉️ Inbox"), "home")])
    return InlineKeyboardMarkup(rows)


# --- writing to the structure ----------------------------------------------------------------


async def start_writing(update: Update, context: Context) -> str:
    """✍️ Écrire / ↩️ Répondre: ask for the message."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None:
        raise ApplicationHandlerStop(ConversationHandler.END)
    family_id = await linked_family(update, context)
    if family_id is None:
        raise ApplicationHandlerStop(ConversationHandler.END)
    reply_to = parsed.int_arg(1) if parsed.arg(0) == "reply" else None
    quote = None
    if reply_to:
        runtime = get_runtime(context)
        async with runtime.database.unit_of_work() as uow:
            target = await inbox_service.owned_message(uow, family_id, reply_to)
            if target is not None and target.direction == MessageDirection.FROM_STRUCTURE:
                await inbox_service.open_message(uow, family_id, target.id, runtime.now())
                await uow.commit()
        if target is None:
            await _refuse_foreign(update, context, family_id, reply_to)
            raise ApplicationHandlerStop(ConversationHandler.END)
        quote = target.body
    await query.answer()
    if context.user_data is not None:
        context.user_data[REPLY_TO_KEY] = reply_to
    lines = [_("✍️ Write your message to the structure: a text, a photo or a PDF (with a caption if you like).")]
    if quote is not None:
        lines.append(_("In reply to: “{quote}”").format(quote=escape(_short(" ".join(quote.split()), 120))))
    keyboard = InlineKeyboardMarkup([[_button(_("✖️ Cancel"), "cancel")]])
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message("\n".join(lines), reply_markup=keyboard)
    raise ApplicationHandlerStop(COMPOSING)


async def receive_message(update: Update, context: Context) -> int:
    """The parent's text, photo or PDF: send it to the structure."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        raise ApplicationHandlerStop(ConversationHandler.END)
    family_id = await linked_family(update, context)
    if family_id is None:
        raise ApplicationHandlerStop(ConversationHandler.END)
    attachment_id, attachment_kind = None, None
    if message.photo:
        attachment_id, attachment_kind = message.photo[-1].file_id, "photo"
    elif message.document:
        attachment_id, attachment_kind = message.document.file_id, "document"
    reply_to = context.user_data.pop(REPLY_TO_KEY, None) if context.user_data is not None else None
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        stored = await inbox_service.write_to_structure(
            uow,
            family_id=family_id,
            user_id=user.id,
            author_name=user.full_name or str(user.id),
            body=message.text or message.caption or "",
            now=runtime.now(),
            attachment_file_id=attachment_id,
            attachment_kind=attachment_kind,
            reply_to_id=reply_to,
        )
        await uow.commit()
    await message.reply_text(
        _("✅ Your message was sent to the structure. Its answer will arrive here and in your inbox."),
        reply_markup=InlineKeyboardMarkup(
            [[_button(_("✉️ Inbox"), "home"), _home_button()]]
        ),
    )
    await relay_parent_message(context.bot, runtime, stored.id)
    raise ApplicationHandlerStop(ConversationHandler.END)


async def remind_format(update: Update, context: Context) -> str:
    """Something else than a text, a photo or a PDF."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            _("Send a text, a photo or a PDF, or press Cancel."),
            reply_markup=InlineKeyboardMarkup([[_button(_("✖️ Cancel"), "cancel")]]),
        )
    raise ApplicationHandlerStop(COMPOSING)


async def cancel_writing(update: Update, context: Context) -> int:
    """✖️ Annuler: nothing is sent; back to the inbox."""
    if context.user_data is not None:
        context.user_data.pop(REPLY_TO_KEY, None)
    query = update.callback_query
    if query is not None:
        await query.answer(_("Nothing was sent."))
    await show_inbox_after_cancel(update, context)
    raise ApplicationHandlerStop(ConversationHandler.END)


async def show_inbox_after_cancel(update: Update, context: Context) -> None:
    """The inbox's first screen in place of the question."""
    family_id = await linked_family(update, context)
    if family_id is None:
        return
    async with get_runtime(context).database.unit_of_work() as uow:
        summary = await inbox_service.inbox_summary(uow, family_id)
    await show(update, inbox_text(summary), inbox_keyboard(summary))


async def leave_writing(update: Update, context: Context) -> int:
    """Any other button or a command: stop waiting for a message and let it be handled."""
    if context.user_data is not None:
        context.user_data.pop(REPLY_TO_KEY, None)
    return ConversationHandler.END


_WRITE_PATTERN = rf"^{callbacks.INBOX}:(write|reply):\d+$"
_CANCEL_PATTERN = rf"^{callbacks.INBOX}:cancel:\d+$"


def build_compose_handler() -> ConversationHandler:  # type: ignore[type-arg]
    """The persistent writing dialogue (register it in `COMPOSE_GROUP`)."""
    content = PRIVATE & ((filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.Document.PDF)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)  # per_message=False with buttons is deliberate
        return _compose_handler(content)


def _compose_handler(content: filters.BaseFilter) -> ConversationHandler:  # type: ignore[type-arg]
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(start_writing, pattern=_WRITE_PATTERN)],
        states={
            COMPOSING: [
                MessageHandler(content, receive_message),
                MessageHandler(PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL, remind_format),
            ],
        },
        fallbacks=[
            CallbackQueryHandler(cancel_writing, pattern=_CANCEL_PATTERN),
            CallbackQueryHandler(leave_writing),
            MessageHandler(filters.COMMAND, leave_writing),
        ],
        name="inbox_compose",
        persistent=True,
        allow_reentry=True,
        per_message=False,
    )


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The inbox tab and its buttons (main group, before home)."""
    return [
        CallbackQueryHandler(show_inbox, pattern=rf"^{callbacks.MENU}:{TAB_INBOX}$"),
        CallbackQueryHandler(on_button, pattern=rf"^{callbacks.INBOX}:(home|rcv|snt|del|open|rm|att):\d+$"),
    ]
