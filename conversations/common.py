"""Shared pieces of the parent dialogues: the main menu, replying or editing, the guard.

A parent's handler is wrapped with `parent_handler`: the tapped button's query is answered
at once (best effort: a query too old never stops the action), and the refusals a service
raises become answers: `NotLinked` tells the person how to link (no family data is ever shown
to them), `NotAllowed` says the button is no longer valid.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, overload

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot import callbacks
from bot.i18n import _
from bot.services.use_case import AlreadyHandled, NotAllowed, NotLinked
from bot.telegram_http import plain_keyboard

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
    buttons = [
        InlineKeyboardButton(label, callback_data=callbacks.build(callbacks.MENU, tab))
        for tab, label in labels
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def back_to_home_keyboard() -> InlineKeyboardMarkup:
    """A single button back to the home screen."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("🏠 Back to home"), callback_data=callbacks.build(callbacks.HOME)
                )
            ]
        ]
    )


async def show(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Edit the message of the tapped button, or send a new message otherwise."""
    keyboard = plain_keyboard(keyboard)
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


Result = TypeVar("Result")
Handler = Callable[[Update, Context], Coroutine[Any, Any, Result]]
"""A handler callback as python-telegram-bot calls it, answering a `Result`."""


async def answer_query(
    update: Update, text: str | None = None, *, show_alert: bool = False
) -> None:
    """Answer the tapped button's query; its failure (a query too old) does not stop the action."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text, show_alert=show_alert)
    except TelegramError as exc:
        logger.info("callback query not answered: %s", type(exc).__name__)


@overload
def parent_handler(
    handler: Handler[Result], *, answers_itself: bool = False
) -> Handler[Result | None]: ...


@overload
def parent_handler(
    handler: None = None, *, answers_itself: bool = False
) -> Callable[[Handler[Result]], Handler[Result | None]]: ...


def parent_handler(
    handler: Handler[Result] | None = None, *, answers_itself: bool = False
) -> Handler[Result | None] | Callable[[Handler[Result]], Handler[Result | None]]:
    """Wrap a parent's handler: answer the query first, turn service refusals into answers.

    `answers_itself=True` for a handler that answers its query with a text of its own.
    A refusal answers None (the conversation, if any, keeps its state).
    """

    def decorate(inner: Handler[Result]) -> Handler[Result | None]:
        @functools.wraps(inner)
        async def wrapped(update: Update, context: Context) -> Result | None:
            if not answers_itself:
                await answer_query(update)
            try:
                return await inner(update, context)
            except AlreadyHandled:
                pass  # a second delivery of an update already acted on (and answered)
            except NotLinked:
                await tell_how_to_link(update, answered=not answers_itself)
            except NotAllowed:
                await stale_button(update)
            return None

        return wrapped

    return decorate(handler) if handler is not None else decorate


async def stale_button(update: Update) -> None:
    """A button that names nothing the person may act on any more."""
    await show(update, _("This button is no longer valid."), back_to_home_keyboard())


def user_id_of(update: Update) -> int:
    """The id of the person behind the update (every parent update has one)."""
    user = update.effective_user
    if user is None:
        raise NotLinked()
    return user.id


async def tell_how_to_link(update: Update, *, answered: bool = False) -> None:
    """Explain to an unlinked user how to link their account (and show nothing else)."""
    if not answered:
        await answer_query(update)
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
