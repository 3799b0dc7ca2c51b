"""Se connecter: link a Telegram account with an invite link, or with N° famille + phone.

`/start <code>` redeems a one-time invite. `/start` alone asks for the N° famille, then for the
phone through Telegram's "share my phone number" button. The dialogue is persistent: a restart
of the bot in the middle keeps its state.
"""

from __future__ import annotations

import re

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

from bot.i18n import _
from bot.ptb_types import Conversation
from bot.runtime import get_runtime
from bot.services import linking
from bot.services.home import home_summary
from bot.services.linking import LinkOutcome, LinkResult
from bot.services.use_case import NotLinked
from conversations.common import Context, how_to_link_text
from conversations.home import show_summary

ASK_NUMBER, ASK_CONTACT = "ask_number", "ask_contact"
NUMBER_KEY = "link_family_number"
PRIVATE = filters.ChatType.PRIVATE
_FAMILY_NUMBER = re.compile(r"^\d{6,20}$")


async def start(update: Update, context: Context) -> str | int:
    """/start [code]: redeem an invite, show home to a linked user, or begin linking by number."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return ConversationHandler.END
    runtime = get_runtime(context)
    if context.args:
        result = await linking.redeem_invite(
            runtime.database, context.args[0], user.id, runtime.now()
        )
        return await _after_attempt(update, context, result)
    try:
        summary = await home_summary(runtime.database, user.id)
    except NotLinked:
        pass
    else:
        await show_summary(update, runtime, summary)
        return ConversationHandler.END
    await message.reply_text(
        _("Welcome to the Portail Famille of {structure}.").format(structure=runtime.structure.name)
        + "\n\n"
        + _(
            "To link your account, send your <b>family number</b> (N° famille), printed on your invoices."
        )
        + "\n"
        + _("Send /annuler to stop."),
        reply_markup=ReplyKeyboardRemove(),
    )
    return ASK_NUMBER


async def receive_number(update: Update, context: Context) -> str:
    """Keep the N° famille and ask for the phone contact."""
    message = update.effective_message
    assert message is not None and message.text is not None
    number = re.sub(r"[\s.-]", "", message.text)
    if not _FAMILY_NUMBER.match(number):
        await message.reply_text(
            _(
                "A family number is made of digits only (for example 1001001818331). Try again, or /annuler."
            )
        )
        return ASK_NUMBER
    assert context.user_data is not None
    context.user_data[NUMBER_KEY] = number
    keyboard = _share_keyboard()
    await message.reply_text(
        _(
            "Thank you. Now tap the button below to share your phone number: it must be one the structure has on file for this family."
        ),
        reply_markup=keyboard,
    )
    return ASK_CONTACT


async def receive_contact(update: Update, context: Context) -> str | int:
    """Link when the shared contact is the user's own and matches the family's phones."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None and message.contact is not None
    assert context.user_data is not None
    runtime = get_runtime(context)
    number = context.user_data.get(NUMBER_KEY, "")
    result = await linking.link_by_contact(
        runtime.database,
        number,
        message.contact.phone_number,
        contact_user_id=message.contact.user_id,
        user_id=user.id,
        now=runtime.now(),
    )
    if result.outcome in RETRY_CONTACT:
        # Someone else's card, or a number not on file: the dialogue stays open, the person
        # may share their own number at once (attempts are throttled by the service).
        await message.reply_text(_refusal_text(result.outcome), reply_markup=_share_keyboard())
        return ASK_CONTACT
    context.user_data.pop(NUMBER_KEY, None)
    return await _after_attempt(update, context, result)


RETRY_CONTACT = (LinkOutcome.NOT_OWN_CONTACT, LinkOutcome.NO_MATCH)
"""Refusals after which another contact may be shared without starting again."""


def _share_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_("📱 Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def remind_number(update: Update, context: Context) -> str:
    """Anything but a number while waiting for one."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Please send your family number as digits, or /annuler.")
    )
    return ASK_NUMBER


async def remind_contact(update: Update, context: Context) -> str:
    """Anything but a contact while waiting for one."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Please use the button « 📱 Share my phone number » below, or /annuler.")
    )
    return ASK_CONTACT


async def cancel(update: Update, context: Context) -> int:
    """/annuler or any other command: leave the dialogue, saying so."""
    if context.user_data is not None:
        context.user_data.pop(NUMBER_KEY, None)
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Linking cancelled. Send /start to start again."), reply_markup=ReplyKeyboardRemove()
    )
    return ConversationHandler.END


async def _after_attempt(update: Update, context: Context, result: LinkResult) -> int:
    message = update.effective_message
    assert message is not None
    if result.home is not None:
        notice = (
            _("✅ Your account is now linked to your family.")
            if result.outcome == LinkOutcome.LINKED
            else ""
        )
        if notice and message.contact is not None:
            # The "share my number" keyboard goes only with a message of its own (Telegram sends
            # no inline buttons with a keyboard removal): then the confirmation says it.
            await message.reply_text(notice, reply_markup=ReplyKeyboardRemove())
            notice = ""
        await show_summary(update, get_runtime(context), result.home, notice)
        return ConversationHandler.END
    await message.reply_text(_refusal_text(result.outcome), reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


def _refusal_text(outcome: LinkOutcome) -> str:
    texts = {
        LinkOutcome.INVALID_CODE: _(
            "This invitation link is not valid. Check that you copied it whole, or ask the structure for a new one."
        ),
        LinkOutcome.USED_CODE: _(
            "This invitation link has already been used. Each link works once: ask the structure for a new one."
        ),
        LinkOutcome.EXPIRED_CODE: _(
            "This invitation link has expired. Ask the structure for a new one."
        ),
        LinkOutcome.NO_MATCH: _(
            "We could not link your account: this family number and this phone number do not match our records. Check the number on your invoices, or contact the structure."
        ),
        LinkOutcome.NOT_OWN_CONTACT: _(
            "Please share your own phone number, with the button, not someone else's contact."
        ),
        LinkOutcome.THROTTLED: _(
            "Too many attempts. For your security, try again in an hour or contact the structure."
        ),
        LinkOutcome.LINKED_ELSEWHERE: _(
            "Your account is already linked to another family. Log out first with /deconnexion."
        ),
    }
    return texts.get(outcome, how_to_link_text())


def build_handler() -> Conversation:
    """The persistent linking dialogue."""
    return ConversationHandler(
        entry_points=[CommandHandler("start", start, filters=PRIVATE)],
        states={
            ASK_NUMBER: [
                MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, receive_number),
                MessageHandler(PRIVATE & ~filters.COMMAND, remind_number),
            ],
            ASK_CONTACT: [
                MessageHandler(PRIVATE & filters.CONTACT, receive_contact),
                MessageHandler(PRIVATE & ~filters.COMMAND, remind_contact),
            ],
        },
        fallbacks=[
            CommandHandler("start", start, filters=PRIVATE),
            MessageHandler(PRIVATE & filters.COMMAND, cancel),
        ],
        name="linking",
        persistent=True,
        allow_reentry=True,
    )
