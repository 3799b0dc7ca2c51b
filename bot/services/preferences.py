"""A Telegram user's preferences kept in the database: the interface language."""

from __future__ import annotations

from bot.i18n import SUPPORTED_LANGUAGES
from storage.db import UnitOfWork


async def stored_language(uow: UnitOfWork, user_id: int) -> str | None:
    """The language the user chose with /langue, if any."""
    user = await uow.repos.telegram.get_user(user_id)
    return user.language if user else None


async def choose_language(uow: UnitOfWork, user_id: int, language: str) -> bool:
    """Record the user's language; False when the language is not offered."""
    if language not in SUPPORTED_LANGUAGES:
        return False
    user = await uow.repos.telegram.get_or_create_user(user_id)
    user.language = language
    return True
