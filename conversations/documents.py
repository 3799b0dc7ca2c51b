"""Infos / Documents: the structure's documents, the fiche d'inscription, and staff's /document.

Staff publish a file by sending it to the admin group with the caption `/document Règlement
intérieur`, or by replying `/document Titre` to a file already posted there. Parents list the
published documents and receive them; they also get the fiche d'inscription as a PDF, blank or
pre-filled for one of their children.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks
from bot.i18n import DEFAULT_LANGUAGE, _, elide, format_short_date, use_language
from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.services import documents as documents_service
from bot.services.documents import DocumentsTab, PublishedFile
from bot.staff import staff_only
from bot.structure import Structure
from conversations.common import (
    TAB_DOCUMENTS,
    Context,
    answer_query,
    escape,
    parent_handler,
    show,
    user_id_of,
)
from conversations.forms import State, step
from conversations.registration_pdf import RegistrationData, registration_pdf

logger = logging.getLogger(__name__)

COMMAND = "document"
_CAPTION_COMMAND = filters.CaptionRegex(rf"^/{COMMAND}(?:@\w+)?(?:\s|$)")


# --- Parents -------------------------------------------------------------------------------


@parent_handler
async def show_documents(update: Update, context: Context) -> State | None:
    """The Infos / Documents tab."""
    runtime = get_runtime(context)
    tab = await documents_service.documents_tab(runtime.database, user_id_of(update))
    await show(update, render_documents(tab, runtime.structure), documents_keyboard(tab))
    return None


def render_documents(tab: DocumentsTab, structure: Structure) -> str:
    """The structure's details, and what the buttons below offer."""
    lines = [_("📄 <b>Info / Documents</b>"), "", f"<b>{escape(structure.name)}</b>"]
    lines += [escape(line) for line in (structure.service_name, structure.address) if line]
    contact = " — ".join(part for part in (structure.phone, structure.email) if part)
    if contact:
        lines.append(escape(contact))
    lines.append("")
    if tab.documents:
        lines.append(_("Tap a document to receive it:"))
    else:
        lines.append(_("The structure has not published any document yet."))
    return "\n".join(lines)


def documents_keyboard(tab: DocumentsTab) -> InlineKeyboardMarkup:
    """A button per document, the registration forms, the data export, home."""
    rows = [
        [
            InlineKeyboardButton(
                f"📎 {document.title}"[:60],
                callback_data=callbacks.build(callbacks.DOCUMENT, document.id),
            )
        ]
        for document in tab.documents[:20]
    ]
    rows.append(
        [
            InlineKeyboardButton(
                _("📝 Blank registration form"),
                callback_data=callbacks.build(callbacks.REGISTRATION_FORM, 0),
            )
        ]
    )
    rows += [
        [
            InlineKeyboardButton(
                elide(_("📝 Registration form of {name}").format(name=child.first_name)),
                callback_data=callbacks.build(callbacks.REGISTRATION_FORM, child.id),
            )
        ]
        for child in tab.children
    ]
    rows.append(
        [
            InlineKeyboardButton(
                _("🔐 My data (GDPR)"), callback_data=callbacks.build(callbacks.MY_DATA)
            )
        ]
    )
    rows.append(
        [InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))]
    )
    return InlineKeyboardMarkup(rows)


@parent_handler(answers_itself=True)
async def send_document(update: Update, context: Context) -> State | None:
    """A document's button: send the file."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    chat = update.effective_chat
    if parsed is None or chat is None:
        await answer_query(update, _("This button is no longer valid."))
        return None
    runtime = get_runtime(context)
    document = await documents_service.document_for_parent(
        runtime.database, user_id_of(update), parsed.int_arg(0)
    )
    if document is None:
        await answer_query(update, _("This document is no longer available."), show_alert=True)
        return None
    await answer_query(update)
    caption = escape(document.title)
    if document.is_photo:
        await chat.send_photo(document.telegram_file_id, caption=caption)
    else:
        await chat.send_document(document.telegram_file_id, caption=caption)
    return None


@parent_handler(answers_itself=True)
async def send_registration_form(update: Update, context: Context) -> State | None:
    """The fiche d'inscription PDF, blank (0) or pre-filled for one of the family's children."""
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    chat = update.effective_chat
    if parsed is None or chat is None:
        await answer_query(update, _("This button is no longer valid."))
        return None
    runtime = get_runtime(context)
    child_id = None if parsed.arg(0) == "0" else (parsed.int_arg(0) or -1)
    form = await documents_service.registration_form(
        runtime.database, user_id_of(update), child_id, now=runtime.now()
    )
    if form is None:
        await answer_query(update, _("This child is not in your family."), show_alert=True)
        return None
    await answer_query(update)
    name = _("registration-form")
    if form.sheet is not None:
        name = f"{name}-{form.sheet.child.first_name.lower()}"
    content = registration_pdf(
        runtime.structure, RegistrationData(form.record, form.sheet, runtime.today())
    )
    await chat.send_document(
        InputFile(content, filename=f"{name}.pdf"),
        caption=_("📝 Registration form — {date}").format(date=format_short_date(runtime.today())),
    )
    return None


def build_parent_handlers() -> list[AnyHandler]:
    """The tab and its buttons (steps of the family conversation)."""
    return [
        CallbackQueryHandler(step(show_documents), pattern=rf"^{callbacks.MENU}:{TAB_DOCUMENTS}$"),
        CallbackQueryHandler(step(send_document), pattern=callbacks.pattern(callbacks.DOCUMENT)),
        CallbackQueryHandler(
            step(send_registration_form), pattern=callbacks.pattern(callbacks.REGISTRATION_FORM)
        ),
    ]


# --- Staff ---------------------------------------------------------------------------------


def _published_file(message: Message | None) -> PublishedFile | None:
    if message is None:
        return None
    if message.document is not None:
        return PublishedFile(
            message.document.file_id, message.document.file_name, message.document.mime_type
        )
    if message.photo:
        return PublishedFile(message.photo[-1].file_id, None, "image/jpeg")
    return None


def _title(text: str | None) -> str:
    parts = (text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


@staff_only(documents_service.ACTION_PUBLISH)
async def publish(update: Update, context: Context) -> None:
    """/document Titre, as the caption of a file or in reply to one, in the admin group."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    runtime = get_runtime(context)
    with use_language(DEFAULT_LANGUAGE):  # the staff's language
        if chat.id != runtime.settings.admin_chat_id:
            await message.reply_text(
                _(
                    "Publish documents from the staff group: send the file there with the caption /document Title."
                )
            )
            return
        file = _published_file(message) or _published_file(message.reply_to_message)
        title = _title(message.caption if message.caption else message.text)
        if file is None or not title:
            await message.reply_text(
                _(
                    "To publish a document for the families: send the file here with the caption "
                    "<code>/document Title</code>, or reply <code>/document Title</code> to a file posted here."
                )
            )
            return
        publication = await documents_service.publish_document(
            runtime.database, title=title, file=file, staff_id=user.id, now=runtime.now()
        )
        document = publication.document
        logger.info("document %s published by staff %s", document.id, user.id)
        text = (
            _("✅ Published for the families: <b>{title}</b> (Info / Documents).")
            if publication.created
            else _("✅ This file was already published; its title is now <b>{title}</b>.")
        )
        await message.reply_text(
            text.format(title=escape(document.title)), reply_markup=_withdraw_keyboard(document.id)
        )


def _withdraw_keyboard(document_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("🗑 Withdraw"),
                    callback_data=callbacks.build(callbacks.DOCUMENT_WITHDRAW, document_id),
                )
            ]
        ]
    )


@staff_only(documents_service.ACTION_LIST)
async def list_documents(update: Update, context: Context) -> None:
    """/documents in the admin group: what is published, each with a withdraw button."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    runtime = get_runtime(context)
    published = await documents_service.documents_for_staff(
        runtime.database, staff_id=user.id, now=runtime.now()
    )
    with use_language(DEFAULT_LANGUAGE):
        if not published:
            await message.reply_text(
                _("No document is published. Send a file with the caption /document Title.")
            )
            return
        for document in published[:20]:
            await message.reply_text(
                _("📎 <b>{title}</b> — published on {date}").format(
                    title=escape(document.title),
                    date=format_short_date(
                        document.published_at.astimezone(runtime.settings.tz).date()
                    ),
                ),
                reply_markup=_withdraw_keyboard(document.id),
            )


@staff_only(documents_service.ACTION_WITHDRAW)
async def withdraw(update: Update, context: Context) -> None:
    """🗑 Withdraw: parents no longer see the document."""
    query, user = update.callback_query, update.effective_user
    parsed = callbacks.parse(query.data if query else None)
    if parsed is None or user is None:
        await answer_query(update, _("This button is no longer valid."))
        return
    runtime = get_runtime(context)
    document = await documents_service.withdraw_document(
        runtime.database, parsed.int_arg(0), staff_id=user.id, now=runtime.now()
    )
    with use_language(DEFAULT_LANGUAGE):
        if document is None:
            await answer_query(update, _("Already withdrawn."))
            return
        await answer_query(update)
        await show(update, _("🗑 Withdrawn: <b>{title}</b>.").format(title=escape(document.title)))


def build_staff_handlers() -> list[AnyHandler]:
    """Publishing and withdrawing documents (staff only)."""
    return [
        MessageHandler(_CAPTION_COMMAND & (filters.Document.ALL | filters.PHOTO), publish),
        # A reply "/document Titre" (a regex rather than a CommandHandler: some clients send no entity).
        MessageHandler(
            filters.ChatType.GROUPS & filters.Regex(rf"^/{COMMAND}(?:@\w+)?(?:\s|$)"), publish
        ),
        CommandHandler("documents", list_documents, filters=filters.ChatType.GROUPS),
        CallbackQueryHandler(withdraw, pattern=callbacks.pattern(callbacks.DOCUMENT_WITHDRAW)),
    ]
