"""Language: the user's language is set for each update, and chosen with /langue.

The stored choice wins; otherwise the Telegram app's language; otherwise French. The choice
is read from the database and kept in `runtime.languages` (an account without a choice is kept
as ""); in a private chat, that read also stores the app's language apart
(`TelegramUser.app_language`), for what the bot sends on its own later, so an update of a
known account usually opens no transaction; /langue updates the cache after its commit. On
SQLite (one process) a choice is read once per account; on PostgreSQL, where several workers
may serve the bot, it is read again after `SHARED_CACHE_SECONDS`, so that a /langue answered
by another worker is followed here within a few seconds. The language lives in a context
variable, so updates handled side by side each keep their own.
"""

from __future__ import annotations

import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    TypeHandler,
    filters,
)

from bot import callbacks
from bot.i18n import _, normalize_language, set_language
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services.preferences import choose_language, note_app_language, stored_language
from conversations.common import Context, answer_query, parent_handler, show

_NO_CHOICE = ""
SHARED_CACHE_SECONDS = 5.0
"""How long a worker on PostgreSQL trusts the language it read (another worker may change it)."""


def _cached_choice(runtime: Runtime, user_id: int) -> str | None:
    cached = runtime.languages.get(user_id)
    if cached is None:
        return None
    choice, read_at = cached
    if (
        runtime.database.backend == "postgresql"
        and time.monotonic() - read_at > SHARED_CACHE_SECONDS
    ):
        return None
    return choice


async def apply_user_language(update: Update, context: Context) -> None:
    """Runs before every other handler: render this update in the user's language."""
    user = update.effective_user
    if user is None:
        set_language(normalize_language(None))
        return
    runtime = get_runtime(context)
    choice = _cached_choice(runtime, user.id)
    if choice is None:
        private = update.effective_chat is not None and update.effective_chat.type == "private"
        read_at = time.monotonic()
        stored = (
            await note_app_language(runtime.database, user.id, user.language_code)
            if private
            else await stored_language(runtime.database, user.id)
        )
        cached = runtime.languages.get(user.id)
        if cached is None or cached[1] < read_at:  # a /langue committed meanwhile wins
            runtime.languages[user.id] = (stored or _NO_CHOICE, read_at)
        choice = runtime.languages[user.id][0]
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
    runtime.languages[user.id] = (parsed.arg(0), time.monotonic())
    set_language(parsed.arg(0))
    await answer_query(update)
    await show(update, _("The bot will now speak English. Send /accueil for the home screen."))


def build_language_middleware() -> TypeHandler[Update, Context, None]:
    """The handler, for a group before all others, that sets the update's language."""
    return TypeHandler(Update, apply_user_language)


def build_handlers() -> list[AnyHandler]:
    """/langue and its buttons."""
    return [
        CommandHandler(["langue", "language"], ask_language, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(set_user_language, pattern=callbacks.pattern(callbacks.LANGUAGE)),
    ]
