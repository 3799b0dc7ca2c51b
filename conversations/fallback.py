"""Last resort for parents' updates no dialogue took: stale buttons, stickers, stray text.

Every such update gets a short French answer and the way back to the menu, never silence.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.i18n import _
from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.services.home import is_linked
from conversations.common import Context, answer_query, back_to_home_keyboard, how_to_link_text


async def stale_button(update: Update, context: Context) -> None:
    """A button from an old message, or data that is not ours."""
    if update.callback_query is None:
        return
    await answer_query(update, _("This button is no longer valid."))
    if update.effective_chat is not None and update.effective_chat.type == "private":
        await _point_to_menu(update, context, _("This button is no longer valid."))


async def not_understood(update: Update, context: Context) -> None:
    """Text, stickers, unknown commands outside any dialogue."""
    await _point_to_menu(
        update, context, _("Sorry, I did not understand. Use the buttons of the menu.")
    )


async def _point_to_menu(update: Update, context: Context, text: str) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    if await is_linked(get_runtime(context).database, user.id):
        await chat.send_message(text, reply_markup=back_to_home_keyboard())
    else:
        await chat.send_message(how_to_link_text())


def build_handlers() -> list[AnyHandler]:
    """Catch-all handlers; register them after every other handler of the group."""
    return [
        CallbackQueryHandler(stale_button),
        MessageHandler(filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL, not_understood),
    ]
