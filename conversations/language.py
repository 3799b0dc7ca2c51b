"""Language: the user's language is set for each update, and chosen with /langue.

The stored choice wins; otherwise the Telegram app's language; otherwise French.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, TypeHandler, filters

from bot import callbacks
from bot.i18n import _, normalize_language, set_language
from bot.runtime import get_runtime
from bot.services.preferences import choose_language, stored_language
from conversations.common import Context, show

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
        async with runtime.database.unit_of_work() as uow:
            choice = await stored_language(uow, user.id) or _NO_CHOICE
        runtime.languages[user.id] = choice
    set_language(normalize_language(choice or user.language_code))


async def ask_language(update: Update, context: Context) -> None:
    """/langue: offer the languages."""
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("🇫🇷 Français", callback_data=callbacks.build(callbacks.LANGUAGE, "fr")),
                InlineKeyboardButton("🇬🇧 English", callback_data=callbacks.build(callbacks.LANGUAGE, "en")),
            ]
        ]
    )
    await show(update, _("Choose your language:"), keyboard)


async def set_user_language(update: Update, context: Context) -> None:
    """Store the chosen language and confirm in it."""
    query, user = update.callback_query, update.effective_user
    parsed = callbacks.parse(query.data if query else None)
    if query is None or user is None or parsed is None:
        return
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        accepted = await choose_language(uow, user.id, parsed.arg(0))
        await uow.commit()
    if not accepted:
        await query.answer(_("This language is not available."), show_alert=True)
        return
    runtime.languages[user.id] = parsed.arg(0)
    set_language(parsed.arg(0))
    await query.answer()
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
