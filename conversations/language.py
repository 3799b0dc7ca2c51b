"""Language: the user's language is set for each update, and chosen with /langue.

The stored choice wins; otherwise the Telegram app's language; otherwise French. The choice
is read from the database once per account and kept in `runtime.languages` (an account
without a choice is kept as ""); in a private chat, that first read also stores the app's
language apart (`TelegramUser.app_language`), for what the bot sends on its own later, so an update of a known account opens no transaction; /langue
updates the cache after its commit. The language lives in a context variable, so updates
handled side by side each keep their own.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    TypeHandler,
    filters,
)

from bot import callbacks
from bot.i18n import _, normalize_language, set_language
from bot.runtime import get_runtime
from bot.services.preferences import choose_language, note_app_language, stored_language
from conversations.common import Context, answer_query, parent_handler, show

_NO_CHOICE = ""


async def apply_user_language(update: Update, context: Context) -> None:
    """Runs before every other handler: render this update in the user's language."""
    user = update.effective_user
    if user is None:
        set_language(normalize_language(None))
        return
    runtime = get_runtime(context)
    choice = runtime.languages.get(user.id)
    if choice is None:
        private = update.effective_chat is not None and update.effective_chat.type == "private"
        stored = (
            await note_app_language(runtime.database, user.id, user.language_code)
            if private
            else await stored_language(runtime.database, user.id)
        )
        choice = stored or _NO_CHOICE
        runtime.languages.setdefault(user.id, choice)  # a /langue committed meanwhile wins
        choice = runtime.languages[user.id]
    set_language(normalize_language(choice or user.language_code))


async def ask_language(update: Update, context: Context) -> None:
    """/langue: offer the languages."""
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "🇫🇷 Français", callback_data=callbacks.build(callbacks.LANGUAGE, "fr")
                ),
                InlineKeyboardButton(
                    "🇬🇧 English", callback_data=callbacks.build(callbacks.LANGUAGE, "en")
                ),
            ]
        ]
    )
    await show(update, _("Choose your language:"), keyboard)


@parent_handler(answers_itself=True)
async def set_user_language(update: Update, context: Context) -> None:
    """Store the chosen language and confirm in it (linked or not)."""
    query, user = update.callback_query, update.effective_user
    parsed = callbacks.parse(query.data if query else None)
    if query is None or user is None or parsed is None:
        await answer_query(update, _("This button is no longer valid."))
        return
    runtime = get_runtime(context)
    if not await choose_language(runtime.database, user.id, parsed.arg(0)):
        await answer_query(update, _("This language is not available."), show_alert=True)
        return
    runtime.languages[user.id] = parsed.arg(0)
    set_language(parsed.arg(0))
    await answer_query(update)
    await show(update, _("The bot will now speak English. Send /accueil for the home screen."))


def build_language_middleware() -> TypeHandler:  # type: ignore[type-arg]
    """The handler, for a group before all others, that sets the update's language."""
    return TypeHandler(Update, apply_user_language)


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """/langue and its buttons."""
    return [
        CommandHandler(["langue", "language"], ask_language, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(set_user_language, pattern=callbacks.pattern(callbacks.LANGUAGE)),
    ]
