"""The doctor's certificate of an absence: sent right after declaring it, or later from the day.

After a late absence goes to staff, the parent may send a photo or a PDF of the certificate;
it is attached to the request (the staff card shows it, or gets it as a reply when already
posted). The dialogue is persistent: the bot may restart while the parent takes the photo.

It runs in its own handler group, before the main one: what it handles stops there
(ApplicationHandlerStop); any other button or command ends it and still reaches its own feature.
"""

from __future__ import annotations

import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from telegram.warnings import PTBUserWarning

from bot import callbacks
from bot.i18n import _, use_language
from bot.runtime import get_runtime
from bot.services import bookings
from bot.services.bookings import ProofOutcome
from conversations.common import Context, back_to_home_keyboard, linked_family, show

AWAIT_PROOF = "await_proof"
REQUEST_KEY = "proof_request"
PRIVATE = filters.ChatType.PRIVATE
PROOF_FILES = filters.PHOTO | filters.Document.PDF | filters.Document.IMAGE


def proof_keyboard(request_id: int) -> InlineKeyboardMarkup:
    """"Send the certificate" / "Later"."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("📎 Send the doctor's certificate"), callback_data=callbacks.build(callbacks.PROOF, request_id))],
            [InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))],
        ]
    )


async def ask_for_proof(update: Update, context: Context) -> str | int:
    """The parent tapped "send the certificate": wait for a photo or a PDF."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None:
        return ConversationHandler.END
    await query.answer()
    request_id = parsed.int_arg(0)
    if request_id is None or await linked_family(update, context) is None:
        return ConversationHandler.END
    assert context.user_data is not None
    context.user_data[REQUEST_KEY] = request_id
    await show(update, _("Send the doctor's certificate now, as a photo or a PDF. Send /annuler to stop."))
    raise ApplicationHandlerStop(AWAIT_PROOF)


async def receive_proof(update: Update, context: Context) -> int:
    """Attach the photo or PDF to the absence request."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and context.user_data is not None
    family_id = await linked_family(update, context)
    request_id = context.user_data.pop(REQUEST_KEY, None)
    if family_id is None or request_id is None:
        return ConversationHandler.END
    file_id, kind = (message.photo[-1].file_id, "photo") if message.photo else (message.document.file_id, "document")  # type: ignore[union-attr]
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        result = await bookings.attach_proof(uow, family_id, request_id, file_id, kind, runtime.now(), actor=user.id)
        await uow.commit()
    if result.outcome == ProofOutcome.ATTACHED:
        await _forward_to_staff(context, result, file_id, kind)
        text = _("📎 Certificate received: it is attached to your absence request.")
    elif result.outcome == ProofOutcome.ALREADY_DECIDED:
        text = _("The structure has already decided on this absence; the certificate was not attached.")
    else:
        text = _("This button is no longer valid.")
    await message.reply_text(text, reply_markup=back_to_home_keyboard())
    raise ApplicationHandlerStop(ConversationHandler.END)


async def remind_format(update: Update, context: Context) -> str:
    """Anything but a photo or a PDF while waiting for the certificate."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(_("Please send a photo or a PDF of the certificate, or /annuler."))
    raise ApplicationHandlerStop(AWAIT_PROOF)


async def stop(update: Update, context: Context) -> int:
    """/annuler: stop waiting; the certificate can be sent later from the day."""
    if context.user_data is not None:
        context.user_data.pop(REQUEST_KEY, None)
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Fine: you can send the certificate later from the day in the planning."), reply_markup=back_to_home_keyboard()
    )
    raise ApplicationHandlerStop(ConversationHandler.END)


async def leave(update: Update, context: Context) -> int:
    """Another button or command: stop waiting, and let the update reach its own feature."""
    if context.user_data is not None:
        context.user_data.pop(REQUEST_KEY, None)
    return ConversationHandler.END


async def _forward_to_staff(context: Context, result: bookings.ProofResult, file_id: str, kind: str) -> None:
    """When the card is already in the admin group, the certificate follows it as a reply."""
    runtime = get_runtime(context)
    chat_id = runtime.settings.admin_chat_id
    if chat_id is None or result.admin_message_id is None or result.admin_message_id <= 0:
        return  # the card is not posted yet: it will show the certificate itself
    with use_language("fr"):
        caption = _("📎 Doctor's certificate for request no. {number}").format(number=result.request_id)
    send = context.bot.send_photo if kind == "photo" else context.bot.send_document
    await send(chat_id, file_id, caption=caption, reply_to_message_id=result.admin_message_id)


def build_handler() -> ConversationHandler:  # type: ignore[type-arg]
    """The persistent certificate dialogue, entered by a button and continued by messages
    (so tracked per chat, not per message: PTB's warning about that is expected)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return _conversation()


def _conversation() -> ConversationHandler:  # type: ignore[type-arg]
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(ask_for_proof, pattern=callbacks.pattern(callbacks.PROOF))],
        states={
            AWAIT_PROOF: [
                MessageHandler(PRIVATE & PROOF_FILES, receive_proof),
                MessageHandler(PRIVATE & ~filters.COMMAND, remind_format),
            ]
        },
        fallbacks=[
            CommandHandler("annuler", stop, filters=PRIVATE),
            MessageHandler(PRIVATE & filters.COMMAND, leave),
            CallbackQueryHandler(leave),
        ],
        name="absence_proof",
        persistent=True,
        allow_reentry=True,
        per_message=False,
    )


PROOF_GROUP = -3


async def _answered(update: Update, context: Context) -> None:
    """The certificate button was handled in PROOF_GROUP; nothing more to do in the main group."""


def build_absorber() -> BaseHandler:  # type: ignore[type-arg]
    """For the main group: keeps the fallbacks from calling the certificate button stale."""
    return CallbackQueryHandler(_answered, pattern=callbacks.pattern(callbacks.PROOF))
