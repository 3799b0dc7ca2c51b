"""Boîte de réception, the parents' side: write to the structure, read replies and messages,
delete a message (kept among "deleted messages").

Writing is a small persistent dialogue in its own handler group (`COMPOSE_GROUP`): after
"✍️ Écrire", the next text, photo or PDF goes to the structure (saved and queued for the
staff's group in one transaction). Pressing any other button or sending a command leaves it,
so a parent who changes their mind never sends by mistake.

A staff answer or message reaches each linked account of the family through the outbox
("inbox.structure_message", registered here), with ↩️ Répondre and the inbox under it.
"""

from __future__ import annotations

import datetime as dt
import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import callbacks
from bot.domain.model import MessageDirection
from bot.i18n import _, format_timestamp, from_sender, ngettext
from bot.outgoing import Attachment, Outgoing, Params, template
from bot.ptb_types import AnyHandler, Conversation
from bot.runtime import Runtime, get_runtime
from bot.services import inbox as inbox_service
from bot.services.announcements import SUBJECT as ANNOUNCEMENT_SUBJECT
from bot.services.home import is_linked
from bot.services.inbox import STRUCTURE_MESSAGE_TEMPLATE, Box, InboxPage, InboxSummary, Thread
from bot.services.staff_day import CLOSURE_SUBJECT
from bot.services.use_case import NotAllowed, NotLinked
from bot.telegram_text import cut, fits, utf16_len
from conversations.common import (
    TAB_INBOX,
    Context,
    answer_query,
    escape,
    parent_handler,
    show,
    tell_how_to_link,
    user_id_of,
)
from storage.models import Message

COMPOSE_GROUP = -1
"""Handler group of the writing dialogue: between the language middleware and the dialogues."""
COMPOSING = "composing"
REPLY_TO_KEY = "inbox_reply_to"
PRIVATE = filters.ChatType.PRIVATE
_BOXES = {"rcv": Box.RECEIVED, "snt": Box.SENT, "del": Box.DELETED}
_BOX_CODES = {box: code for code, box in _BOXES.items()}
PAGE_SIZE = 8
MAX_MESSAGE_UNITS = 3500
"""A parent's message at most (Telegram's units): the group shows it whole under its header."""


def _button(label: str, operation: str, number: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=callbacks.build(callbacks.INBOX, operation, number)
    )


def _home_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))


# --- the inbox's screens ---------------------------------------------------------------------


@parent_handler
async def show_inbox(update: Update, context: Context) -> None:
    """✉️ Boîte de réception: counts and what can be done."""
    summary = await inbox_service.summary(get_runtime(context).database, user_id_of(update))
    await show(update, inbox_text(summary), inbox_keyboard(summary))


def inbox_text(summary: InboxSummary) -> str:
    """The inbox's first screen."""
    return "\n".join(
        [
            _("✉️ <b>Inbox</b>"),
            ngettext(
                "You have {count} new message.", "You have {count} new messages.", summary.unread
            ).format(count=summary.unread),
            "",
            _(
                "From here you can write to the structure, read the messages it sent you and its answers, and see the messages you deleted."
            ),
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


@parent_handler(answers_itself=True)
async def on_button(update: Update, context: Context) -> None:
    """The inbox's buttons: lists, opening, deleting, attachments."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None:
        return
    operation, number = parsed.arg(0), parsed.int_arg(1)
    if number is None or (
        operation not in _BOXES and operation not in ("home", "open", "rm", "att")
    ):
        await answer_query(update, _("This button is no longer valid."))
        return
    try:
        await _act(update, context, operation, number)
    except NotAllowed:  # not the family's message (forged or stale button): refused and audited
        await answer_query(update, _("This message is not available."), show_alert=True)


async def _act(update: Update, context: Context, operation: str, number: int) -> None:
    runtime = get_runtime(context)
    db, user_id, tz = runtime.database, user_id_of(update), runtime.settings.tz
    if operation == "home":
        summary = await inbox_service.summary(db, user_id)
        await answer_query(update)
        await show(update, inbox_text(summary), inbox_keyboard(summary))
    elif operation in _BOXES:
        page = await inbox_service.show_box(db, user_id, _BOXES[operation], number, PAGE_SIZE)
        await answer_query(update)
        await show(update, list_text(page), list_keyboard(page, tz))
    elif operation == "open":
        thread = await inbox_service.read_message(db, user_id, number, runtime.now())
        await answer_query(update)
        await show(update, thread_text(thread, runtime), thread_keyboard(thread))
    elif operation == "rm":
        page = await inbox_service.remove_message(db, user_id, number, runtime.now(), PAGE_SIZE)
        await answer_query(update, _("Message deleted. It stays among your deleted messages."))
        await show(update, list_text(page), list_keyboard(page, tz))
    else:  # "att"
        attachment = await inbox_service.attachment_of(db, user_id, number, runtime.now())
        await answer_query(update)
        chat = update.effective_chat
        if chat is not None:
            send = chat.send_photo if attachment.kind == "photo" else chat.send_document
            await send(attachment.file_id)


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
    rows.append([_button(_("✉️ Back to the inbox"), "home"), _home_button()])
    return InlineKeyboardMarkup(rows)


def _message_label(message: Message, tz: dt.tzinfo) -> str:
    mark = (
        "🔵 "
        if message.direction == MessageDirection.FROM_STRUCTURE and message.read_at is None
        else ""
    )
    arrow = "📥" if message.direction == MessageDirection.FROM_STRUCTURE else "📤"
    when = format_timestamp(message.created_at, tz)[:5]
    text = _preview(message)
    label = f"{mark}{arrow} {when} {text}"
    return cut(label, 60)  # measured as Telegram does


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
    name = structure.service_name or structure.name
    sender = escape(from_sender(structure.sender_name()))
    message = thread.message
    if message.direction == MessageDirection.FROM_FAMILY:
        heading = _("📤 <b>Your message</b> of {moment}")
    elif message.subject == ANNOUNCEMENT_SUBJECT:
        heading = _("📢 <b>Announcement {from_sender}</b>, {moment}")
    elif message.subject == CLOSURE_SUBJECT:
        heading = _("🚫 <b>Closure notice {from_sender}</b>, {moment}")
    else:
        heading = _("📥 <b>Message {from_sender}</b>, {moment}")
    lines = [heading.format(from_sender=sender, moment=format_timestamp(message.created_at, tz))]
    if thread.replied_to is not None:
        lines.append(
            _("↪️ In reply to the message of {moment}: “{quote}”").format(
                moment=format_timestamp(thread.replied_to.created_at, tz),
                quote=escape(_short(thread.replied_to.body, 100)),
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
        lines += [
            "",
            _("🗑 Deleted on {moment}").format(moment=format_timestamp(message.deleted_at, tz)),
        ]
    return "\n".join(lines)


def _short(text: str, size: int) -> str:
    return cut(text, size)


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
    box = (
        Box.DELETED
        if message.deleted_at is not None
        else (Box.RECEIVED if message.direction == MessageDirection.FROM_STRUCTURE else Box.SENT)
    )
    rows.append(
        [
            _button(_("⬅️ Back to the list"), _BOX_CODES[box]),
            _button(_("✉️ Inbox"), "home"),
            _home_button(),
        ]
    )
    return InlineKeyboardMarkup(rows)


# --- a structure message received ------------------------------------------------------------


@template(STRUCTURE_MESSAGE_TEMPLATE)
async def _structure_message(runtime: Runtime, params: Params) -> Outgoing | None:
    """A staff answer or message, to one linked account of the family (in its language)."""
    view = await inbox_service.structure_message_view(runtime.database, int(params["message_id"]))
    if view is None:
        return None
    message = view.message
    attachment = None
    if message.attachment_file_id:
        attachment = Attachment(message.attachment_file_id, message.attachment_kind or "document")
    return Outgoing(
        structure_message_text(runtime, message, view.replied_to),
        structure_message_keyboard(message.id),
        attachment=attachment,
    )


def structure_message_text(runtime: Runtime, message: Message, replied_to: Message | None) -> str:
    """What a parent reads of a staff answer or message."""
    sender = escape(from_sender(runtime.structure.sender_name()))
    if replied_to is not None:
        lines = [
            _("✉️ <b>Answer {from_sender}</b>").format(from_sender=sender),
            _("To your message of {moment}: “{quote}”").format(
                moment=format_timestamp(replied_to.created_at, runtime.settings.tz),
                quote=escape(_short(" ".join(replied_to.body.split()), 80)),
            ),
        ]
    else:
        lines = [_("✉️ <b>Message {from_sender}</b>").format(from_sender=sender)]
    return "\n".join(lines) + "\n\n" + escape(message.body)


def structure_message_keyboard(message_id: int) -> InlineKeyboardMarkup:
    """Under a structure message: reply, or open the inbox."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("↩️ Reply"),
                    callback_data=callbacks.build(callbacks.INBOX, "reply", message_id),
                ),
                InlineKeyboardButton(
                    _("✉️ Inbox"), callback_data=callbacks.build(callbacks.MENU, TAB_INBOX)
                ),
            ]
        ]
    )


# --- writing to the structure ----------------------------------------------------------------


async def start_writing(update: Update, context: Context) -> str:
    """✍️ Écrire / ↩️ Répondre: ask for the message."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None:
        raise ApplicationHandlerStop(ConversationHandler.END)
    runtime = get_runtime(context)
    reply_to = parsed.int_arg(1) if parsed.arg(0) == "reply" else None
    quote = None
    try:
        if reply_to:
            quote = (
                await inbox_service.start_reply(
                    runtime.database, user_id_of(update), reply_to, runtime.now()
                )
            ).body
        elif not await is_linked(runtime.database, user_id_of(update)):
            raise NotLinked()
    except NotLinked:
        await tell_how_to_link(update)
        raise ApplicationHandlerStop(ConversationHandler.END) from None
    except NotAllowed:
        await answer_query(update, _("This message is not available."), show_alert=True)
        raise ApplicationHandlerStop(ConversationHandler.END) from None
    await answer_query(update)
    if context.user_data is not None:
        context.user_data[REPLY_TO_KEY] = reply_to
    lines = [
        _(
            "✍️ Write your message to the structure: a text, a photo or a PDF (with a caption if you like)."
        )
    ]
    if quote is not None:
        lines.append(
            _("In reply to: “{quote}”").format(quote=escape(_short(" ".join(quote.split()), 120)))
        )
    keyboard = InlineKeyboardMarkup([[_button(_("✖️ Cancel"), "cancel")]])
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message("\n".join(lines), reply_markup=keyboard)
    raise ApplicationHandlerStop(COMPOSING)


async def receive_message(update: Update, context: Context) -> int:
    """The parent's text, photo or PDF: send it to the structure (queued for the staff's group)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        raise ApplicationHandlerStop(ConversationHandler.END)
    attachment_id, attachment_kind = None, None
    if message.photo:
        attachment_id, attachment_kind = message.photo[-1].file_id, "photo"
    elif message.document:
        attachment_id, attachment_kind = message.document.file_id, "document"
    body = message.text or message.caption or ""
    if not fits(body, MAX_MESSAGE_UNITS):
        # Refused whole rather than cut: the staff would read it shortened (their group shows it
        # with a header, within Telegram's 4,096). The parent is still writing: a shorter one goes.
        await message.reply_text(
            _(
                "Your message is too long for the structure to read it whole ({length} characters, {limit} at most). "
                "Send it again shorter, or in two messages."
            ).format(length=utf16_len(body), limit=MAX_MESSAGE_UNITS),
            reply_markup=InlineKeyboardMarkup([[_button(_("✖️ Cancel"), "cancel")]]),
        )
        raise ApplicationHandlerStop(COMPOSING)
    reply_to = context.user_data.pop(REPLY_TO_KEY, None) if context.user_data is not None else None
    runtime = get_runtime(context)
    try:
        await inbox_service.send_to_structure(
            runtime.database,
            user.id,
            author_name=user.full_name or str(user.id),
            body=body,
            now=runtime.now(),
            attachment_file_id=attachment_id,
            attachment_kind=attachment_kind,
            reply_to_id=reply_to,
        )
    except NotLinked:
        await tell_how_to_link(update)
        raise ApplicationHandlerStop(ConversationHandler.END) from None
    await message.reply_text(
        _(
            "✅ Your message was sent to the structure. Its answer will arrive here and in your inbox."
        ),
        reply_markup=InlineKeyboardMarkup([[_button(_("✉️ Inbox"), "home"), _home_button()]]),
    )
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
    await answer_query(update, _("Nothing was sent."))
    await show_inbox_after_cancel(update, context)
    raise ApplicationHandlerStop(ConversationHandler.END)


async def show_inbox_after_cancel(update: Update, context: Context) -> None:
    """The inbox's first screen in place of the question."""
    try:
        summary = await inbox_service.summary(get_runtime(context).database, user_id_of(update))
    except NotLinked:
        await tell_how_to_link(update, answered=True)
        return
    await show(update, inbox_text(summary), inbox_keyboard(summary))


async def leave_writing(update: Update, context: Context) -> int:
    """Any other button or a command: stop waiting for a message and let it be handled."""
    if context.user_data is not None:
        context.user_data.pop(REPLY_TO_KEY, None)
    return ConversationHandler.END


_WRITE_PATTERN = rf"^{callbacks.INBOX}:(write|reply):\d+$"
_CANCEL_PATTERN = rf"^{callbacks.INBOX}:cancel:\d+$"


def build_compose_handler() -> Conversation:
    """The persistent writing dialogue (register it in `COMPOSE_GROUP`)."""
    content = PRIVATE & ((filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.Document.PDF)
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", PTBUserWarning
        )  # per_message=False with buttons is deliberate
        return _compose_handler(content)


def _compose_handler(content: filters.BaseFilter) -> Conversation:
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(start_writing, pattern=_WRITE_PATTERN)],
        states={
            COMPOSING: [
                MessageHandler(content, receive_message),
                MessageHandler(
                    PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL, remind_format
                ),
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


def build_handlers() -> list[AnyHandler]:
    """The inbox tab and its buttons (main group, before home)."""
    return [
        CallbackQueryHandler(show_inbox, pattern=rf"^{callbacks.MENU}:{TAB_INBOX}$"),
        CallbackQueryHandler(
            on_button, pattern=rf"^{callbacks.INBOX}:(home|rcv|snt|del|open|rm|att):\d+$"
        ),
    ]
