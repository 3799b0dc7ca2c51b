"""A Telegram account's preferences: the interface language (/langue) and the reminders (/rappels).

The language may be chosen before the account is linked; the reminders are a linked parent's
(`NotLinked` otherwise). Each function is one use case with its own transaction.
"""

from __future__ import annotations

from bot.domain.reminders import ReminderKind
from bot.i18n import SUPPORTED_LANGUAGES
from bot.services.reminders import (
    ReminderChoices,
    booking_service_kind,
    reminder_preferences,
    set_reminder_preference,
)
from bot.services.use_case import family_use_case, use_case
from storage.db import Database


async def stored_language(db: Database, user_id: int) -> str | None:
    """The language the user chose with /langue, if any."""
    async with use_case(db, records_update=False) as uow:  # not the update's effect
        user = await uow.repos.telegram.get_user(user_id)
        return user.language if user else None


async def note_app_language(db: Database, user_id: int, app_language: str | None) -> str | None:
    """First sight of an account in this process: remember its Telegram app's language (apart
    from a /langue choice, which it never overwrites) so that what the bot sends on its own
    later (reminders, notices) is in that language; returns the /langue choice, if any."""
    language = app_language.split("-")[0].lower() if app_language else None
    if language not in SUPPORTED_LANGUAGES:
        language = None
    async with use_case(db, records_update=False) as uow:  # not the update's effect
        user = await uow.repos.telegram.get_user(user_id)
        if user is None and language is not None:
            user = await uow.repos.telegram.get_or_create_user(user_id)
        if user is None:
            return None
        if language is not None and user.app_language != language:
            user.app_language = language
        return user.language


async def choose_language(db: Database, user_id: int, language: str) -> bool:
    """Record the user's language; False when the language is not offered."""
    if language not in SUPPORTED_LANGUAGES:
        return False
    async with use_case(db) as uow:
        user = await uow.repos.telegram.get_or_create_user(user_id)
        user.language = language
    return True


async def reminder_choices(db: Database, user_id: int) -> ReminderChoices:
    """Each kind of reminder a parent may receive, with whether it is on."""
    async with family_use_case(db, user_id) as (uow, _family_id):
        return await reminder_preferences(uow, user_id)


async def choose_reminder(
    db: Database, user_id: int, kind: ReminderKind, enabled: bool
) -> ReminderChoices:
    """Turn one kind of reminder on or off; returns every kind's new state."""
    async with family_use_case(db, user_id) as (uow, _family_id):
        await set_reminder_preference(uow, user_id, kind, enabled)
        return await reminder_preferences(uow, user_id)


async def choose_service_reminder(
    db: Database, user_id: int, service_id: int, enabled: bool
) -> ReminderChoices:
    """Turn the booking reminders of one service on or off; an unknown service changes nothing."""
    async with family_use_case(db, user_id) as (uow, _family_id):
        service = next(
            (s for s in await uow.repos.structure.services() if s.id == service_id and s.active),
            None,
        )
        if service is not None:
            await set_reminder_preference(uow, user_id, booking_service_kind(service.code), enabled)
        return await reminder_preferences(uow, user_id)
