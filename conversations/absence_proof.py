"""The doctor's certificate of an absence: sent right after declaring it, or later from the day.

After a late absence goes to staff, the parent may send a photo or a PDF of the certificate;
it is attached to the request (the staff card shows it; when the card is already in the admin
group, the certificate follows it there, through the outbox). The dialogue is persistent: the
bot may restart while the parent takes the photo.

It runs in its own handler group, before the main one: what it handles stops there
(ApplicationHandlerStop); any other button or command ends it and still reaches its own feature.
"""

from __future__ import annotations

import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import callbacks
from bot.i18n import _
from bot.outgoing import Attachment, Outgoing, Params, template
from bot.ptb_types import AnyHandler, Conversation
from bot.runtime import Runtime, get_runtime
from bot.services import bookings
from bot.services.bookings import ProofOutcome
from bot.services.use_case import NotAllowed, NotLinked
from bot.telegram_text import utf16_len
from conversations.common import (
    Context,
    answer_query,
    back_to_home_keyboard,
    escape,
    show,
    stale_button,
    tell_how_to_link,
    user_id_of,
)

AWAIT_PROOF = "await_proof"
REQUEST_KEY = "proof_request"
PRIVATE = filters.ChatType.PRIVATE
PROOF_FILES = filters.PHOTO | filters.Document.PDF | filters.Document.IMAGE


def proof_keyboard(request_id: int) -> InlineKeyboardMarkup:
    """ "Send the certificate" / "Later"."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("📎 Send the doctor's certificate"),
                    callback_data=callbacks.build(callbacks.PROOF, request_id),
                )
            ],
            [
                InlineKeyboardButton(
                    _("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME)
                )
            ],
        ]
    )


async def ask_for_proof(update: Update, context: Context) -> str | int:
    """The parent tapped "send the certificate": wait for a photo or a PDF."""
    await answer_query(update)
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    request_id = parsed.int_arg(0) if parsed else None
    user = update.effective_user
    if request_id is None or user is None:
        return ConversationHandler.END
    runtime = get_runtime(context)
    try:
        outcome = await bookings.proof_expected(
            runtime.database, user.id, request_id, runtime.now()
        )
    except NotLinked:
        await tell_how_to_link(update, answered=True)
        raise ApplicationHandlerStop(ConversationHandler.END) from None
    except NotAllowed:
        await stale_button(update)
        raise ApplicationHandlerStop(ConversationHandler.END) from None
    if outcome == ProofOutcome.ALREADY_DECIDED:
        await show(
            update,
            _(
                "The structure has already decided on this absence; the certificate was not attached."
            ),
            back_to_home_keyboard(),
        )
        raise ApplicationHandlerStop(ConversationHandler.END)
    assert context.user_data is not None
    context.user_data[REQUEST_KEY] = request_id
    await show(
        update, _("Send the doctor's certificate now, as a photo or a PDF. Send /annuler to stop.")
    )
    raise ApplicationHandlerStop(AWAIT_PROOF)


async def receive_proof(update: Update, context: Context) -> int:
    """Attach the photo or PDF to the absence request."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and context.user_data is not None
    request_id = context.user_data.pop(REQUEST_KEY, None)
    if request_id is None:
        return ConversationHandler.END
    if message.photo:
        file_id, kind = message.photo[-1].file_id, "photo"
    elif message.document is not None:
        file_id, kind = message.document.file_id, "document"
    else:  # the handler's filter lets only photos and documents through
        raise ValueError("a proof without a photo or a document")
    runtime = get_runtime(context)
    try:
        result = await bookings.attach_proof(
            runtime.database, user.id, request_id, file_id, kind, runtime.now()
        )
    except NotLinked:
        await tell_how_to_link(update)
        raise ApplicationHandlerStop(ConversationHandler.END) from None
    except NotAllowed:
        text = _("This button is no longer valid.")
    else:
        if result.outcome == ProofOutcome.ATTACHED:
            text = _("📎 Certificate received: it is attached to your absence request.")
        else:
            text = _(
                "The structure has already decided on this absence; the certificate was not attached."
            )
    await message.reply_text(text, reply_markup=back_to_home_keyboard())
    raise ApplicationHandlerStop(ConversationHandler.END)


async def remind_format(update: Update, context: Context) -> str:
    """Anything but a photo or a PDF while waiting for the certificate."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Please send a photo or a PDF of the certificate, or /annuler.")
    )
    raise ApplicationHandlerStop(AWAIT_PROOF)


async def stop(update: Update, context: Context) -> int:
    """/annuler: stop waiting; the certificate can be sent later from the day."""
    if context.user_data is not None:
        context.user_data.pop(REQUEST_KEY, None)
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Fine: you can send the certificate later from the day in the planning."),
        reply_markup=back_to_home_keyboard(),
    )
    raise ApplicationHandlerStop(ConversationHandler.END)


async def leave(update: Update, context: Context) -> int:
    """Another button or command: stop waiting, and let the update reach its own feature."""
    if context.user_data is not None:
        context.user_data.pop(REQUEST_KEY, None)
    return ConversationHandler.END


@template(bookings.CERTIFICATE)
async def render_certificate(runtime: Runtime, params: Params) -> Outgoing | None:
    """To staff: a certificate sent after its request's card was posted in the group."""
    certificate = await bookings.certificate_to_forward(runtime.database, int(params["request_id"]))
    if certificate is None:
        return None
    caption = _("📎 Doctor's certificate for request no. {number}").format(
        number=certificate.request_id
    )
    return Outgoing(caption, attachment=Attachment(certificate.file_id, certificate.kind))


def build_handler() -> Conversation:
    """The persistent certificate dialogue, entered by a button and continued by messages
    (so tracked per chat, not per message: PTB's warning about that is expected)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return _conversation()


def _conversation() -> Conversation:
    return ConversationHandler(
        entry_points=[
            CallbackQueryHandler(ask_for_proof, pattern=callbacks.pattern(callbacks.PROOF))
        ],
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


# --- "✏️ Autre": the parent types the reason of the absence, then confirms it ------------------

AWAIT_REASON = "await_reason"
REASON_KEY = "absence_other"  # the day the typed reason is for: child, service, day, late
TYPED_REASON_KEY = "absence_other_text"
TYPED = "t"  # the reason code of the confirmation: "autre", with the typed text kept in user_data
MAX_REASON = 200
REASON_GROUP = -4


async def ask_reason(update: Update, context: Context) -> str | int:
    """ "✏️ Autre": ask for the reason in a message (it is confirmed before anything is recorded)."""
    await answer_query(update)
    parsed = callbacks.parse(update.callback_query.data if update.callback_query else None)
    if parsed is None or context.user_data is None:
        return ConversationHandler.END
    late, child_id, service_id, day = (
        parsed.arg(1),
        parsed.int_arg(2),
        parsed.int_arg(3),
        parsed.arg(4),
    )
    if child_id is None or service_id is None:
        return ConversationHandler.END
    runtime = get_runtime(context)
    try:  # an old button after /deconnexion, or another family's child: nothing is asked
        await bookings.check_family_child(
            runtime.database, user_id_of(update), child_id, now=runtime.now()
        )
    except NotLinked:
        await tell_how_to_link(update, answered=True)
        raise ApplicationHandlerStop(ConversationHandler.END) from None
    except NotAllowed:
        await stale_button(update)
        raise ApplicationHandlerStop(ConversationHandler.END) from None
    context.user_data[REASON_KEY] = {
        "late": late,
        "child": child_id,
        "service": service_id,
        "day": day,
    }
    await show(update, _("✏️ Write the reason for the absence in a message. Send /annuler to stop."))
    raise ApplicationHandlerStop(AWAIT_REASON)


async def receive_reason(update: Update, context: Context) -> int:
    """The typed reason: show it back with ✅ Confirm (nothing is recorded before)."""
    message = update.effective_message
    assert message is not None and context.user_data is not None
    where = context.user_data.pop(REASON_KEY, None)
    text = " ".join((message.text or "").split())
    if where is None:
        raise ApplicationHandlerStop(ConversationHandler.END)
    if not text:
        context.user_data[REASON_KEY] = where
        await message.reply_text(
            _("✏️ Write the reason for the absence in a message. Send /annuler to stop.")
        )
        raise ApplicationHandlerStop(AWAIT_REASON)
    if utf16_len(text) > MAX_REASON:
        context.user_data[REASON_KEY] = where
        await message.reply_text(
            _(
                "This reason is too long ({length} characters, at most {limit}): please shorten it."
            ).format(length=utf16_len(text), limit=MAX_REASON)
        )
        raise ApplicationHandlerStop(AWAIT_REASON)
    context.user_data[TYPED_REASON_KEY] = text
    confirm = callbacks.build(
        callbacks.PLANNING_REASON,
        TYPED,
        where["late"],
        where["child"],
        where["service"],
        where["day"],
    )
    back = callbacks.build(callbacks.PLANNING_DAY, where["child"], where["day"])
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("✅ Confirm"), callback_data=confirm)],
            [InlineKeyboardButton(_("Back"), callback_data=back)],
        ]
    )
    await message.reply_text(
        _("Reason of the absence: « {reason} »\nConfirm to send it.").format(reason=escape(text)),
        reply_markup=keyboard,
        parse_mode="HTML",
    )
    raise ApplicationHandlerStop(ConversationHandler.END)


def typed_reason(context: Context) -> str | None:
    """The reason the parent typed and is confirming, if any."""
    return context.user_data.get(TYPED_REASON_KEY) if context.user_data is not None else None


def forget_typed_reason(context: Context) -> None:
    """The typed reason was recorded (or abandoned)."""
    if context.user_data is not None:
        context.user_data.pop(TYPED_REASON_KEY, None)


async def stop_reason(update: Update, context: Context) -> int:
    """/annuler while typing the reason: nothing is recorded."""
    if context.user_data is not None:
        context.user_data.pop(REASON_KEY, None)
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Fine: no absence was recorded."), reply_markup=back_to_home_keyboard()
    )
    raise ApplicationHandlerStop(ConversationHandler.END)


async def leave_reason(update: Update, context: Context) -> int:
    """Another button or command: stop waiting for the reason; the update reaches its feature."""
    if context.user_data is not None:
        context.user_data.pop(REASON_KEY, None)
    return ConversationHandler.END


def build_reason_handler() -> Conversation:
    """The persistent "✏️ Autre" dialogue (entered by a button, continued by a message)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CallbackQueryHandler(ask_reason, pattern=rf"^{callbacks.PLANNING_REASON}:o:")
            ],
            states={
                AWAIT_REASON: [
                    MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, receive_reason)
                ]
            },
            fallbacks=[
                CommandHandler("annuler", stop_reason, filters=PRIVATE),
                MessageHandler(PRIVATE & filters.COMMAND, leave_reason),
                CallbackQueryHandler(leave_reason),
            ],
            name="absence_other_reason",
            persistent=True,
            allow_reentry=True,
            per_message=False,
        )


async def _answered(update: Update, context: Context) -> None:
    """The certificate button was handled in PROOF_GROUP; nothing more to do in the main group."""


def build_absorber() -> AnyHandler:
    """For the main group: keeps the fallbacks from calling the certificate button stale."""
    return CallbackQueryHandler(_answered, pattern=callbacks.pattern(callbacks.PROOF))
