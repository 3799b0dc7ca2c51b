"""Shared pieces of the parent dialogues: the main menu, replying or editing, the link guard.

A handler calls `linked_family` first: it answers unlinked users with how to link, so no
family data is ever shown to them.
"""

from __future__ import annotations

import html
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import callbacks
from bot.i18n import _
from bot.runtime import get_runtime
from bot.services.home import family_id_of_user

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

# Main menu tabs: the seed portal's tabs, in its order.
TAB_ACCOUNT = "account"
TAB_CHILDREN = "children"
TAB_PLANNING = "planning"
TAB_STATEMENT = "statement"
TAB_INBOX = "inbox"
TAB_REQUESTS = "requests"
TAB_DOCUMENTS = "documents"
TAB_LOGOUT = "logout"


def main_menu_keyboard() -> InlineKeyboardMarkup:
    """The buttons of the home screen, two per row."""
    labels = [
        (TAB_ACCOUNT, _("👤 My account")),
        (TAB_CHILDREN, _("👧 My children")),
        (TAB_PLANNING, _("📅 Planning")),
        (TAB_STATEMENT, _("💶 Account statement")),
        (TAB_INBOX, _("✉️ Inbox")),
        (TAB_REQUESTS, _("📋 My requests")),
        (TAB_DOCUMENTS, _("📄 Info / Documents")),
        (TAB_LOGOUT, _("🚪 Log out")),
    ]
    buttons = [InlineKeyboardButton(label, callback_data=callbacks.build(callbacks.MENU, tab)) for tab, label in labels]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def back_to_home_keyboard() -> InlineKeyboardMarkup:
    """A single button back to the home screen."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(_("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME))]]
    )


async def show(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Edit the message of the tapped button, or send a new message otherwise."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_text(text, reply_markup=keyboard)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            logger.info("could not edit message, sending a new one: %s", type(exc).__name__)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text, reply_markup=keyboard)


async def linked_family(update: Update, context: Context) -> int | None:
    """The family of the user, or None after telling an unlinked user how to link."""
    user = update.effective_user
    if user is None:
        return None
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        family_id = await family_id_of_user(uow, user.id)
    if family_id is None:
        await tell_how_to_link(update)
    return family_id


async def tell_how_to_link(update: Update) -> None:
    """Explain to an unlinked user how to link their account (and show nothing else)."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(how_to_link_text(), reply_markup=ReplyKeyboardRemove())


def how_to_link_text() -> str:
    """The explanation given to anyone not linked yet."""
    return _(
        "Your Telegram account is not linked to a family yet.\n\n"
        "• Open the invitation link (or scan the QR code) sent by the structure, or\n"
        "• send /start and give your <b>family number</b> (N° famille, printed on your invoices), "
        "then share your phone number if it is the one the structure has on file."
    )


def escape(value: object) -> str:
    """Escape a value for an HTML message (names and addresses come from users)."""
    return html.escape(str(value), quote=False)
