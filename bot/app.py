"""Building the python-telegram-bot `Application`: persistence, rate limiter, handlers, commands."""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, Defaults

from bot.absence_job import schedule_absence_job
from bot.domain.calendar import preload as preload_calendar
from bot.errors import handle_error
from bot.i18n import _, use_language
from bot.i18n import preload as preload_languages
from bot.ptb_types import BotApplication
from bot.ratelimit import TelegramRateLimiter
from bot.regular_days_job import schedule_regular_days_job
from bot.reminder_job import schedule_reminders
from bot.runtime import RUNTIME_KEY, Runtime
from bot.scheduling import get_lease
from bot.sender import OutboxSender
from bot.telegram_http import AiohttpRequest
from bot.update_guard import GUARD_GROUP, build_guard
from bot.update_processor import ChatOrderedUpdateProcessor
from bot.updates_request import TolerantUpdatesRequest
from conversations import (
    absence_proof,
    documents,
    fallback,
    family,
    home,
    inbox,
    invoices,
    language,
    linking,
    planning,
    planning_family,
    reminders,
    staff,
    statement,
    tariffs,
)
from conversations.staff import custody as staff_custody
from conversations.staff import history as staff_history
from conversations.staff import imports as staff_imports
from conversations.staff import windows as staff_windows
from storage.persistence import DatabasePersistence

LANGUAGE_GROUP = -10
# Mon compte, Mes enfants, forms, demandes, documents (see conversations/family.py)
FAMILY_GROUP = -5
MAIN_GROUP = 0


def build_application(runtime: Runtime, *, persistence_interval: float = 1.0) -> BotApplication:
    """The bot, wired to the runtime's settings and database, with every handler registered."""
    settings = runtime.settings
    persistence = DatabasePersistence(
        runtime.database,
        update_interval=persistence_interval,
        per_update=True,  # several workers may serve the bot: see storage/persistence.py
        state_connections=settings.max_concurrent_updates,
    )
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_base_file_url)
        .request(AiohttpRequest())
        .get_updates_request(
            TolerantUpdatesRequest(connection_pool_size=1)
        )  # one bad update never stops polling
        .persistence(persistence)
        .rate_limiter(TelegramRateLimiter(overall_per_second=settings.send_rate_per_second))
        .concurrent_updates(
            ChatOrderedUpdateProcessor(
                settings.max_concurrent_updates, scope=persistence.update_scope
            )
        )
        .defaults(Defaults(tzinfo=settings.tz, parse_mode=ParseMode.HTML))
        .post_init(_post_init)
        .post_stop(_stop_sender)
        .post_shutdown(_close_database)
        .build()
    )
    application.bot_data[RUNTIME_KEY] = runtime
    persistence.attach(application)
    register_handlers(application)
    schedule_reminders(application, runtime)
    schedule_absence_job(application, runtime)
    schedule_regular_days_job(application, runtime)
    staff.install(application)  # the admin group's outbox and command menu
    return application


def register_handlers(application: BotApplication) -> None:
    """Every handler, in order: language first, dialogues, then the catch-all fallbacks.

    Within the main group the first matching handler wins: a feature's own `menu:<tab>`
    handler must come before `home`, whose generic menu handler says "coming soon".
    """
    application.add_handler(
        build_guard(), group=GUARD_GROUP
    )  # re-deliveries, foreign groups, floods
    application.add_handler(language.build_language_middleware(), group=LANGUAGE_GROUP)
    application.add_handler(
        family.build_handler(), group=FAMILY_GROUP
    )  # menu:account, menu:children …
    application.add_handler(linking.build_handler(), group=MAIN_GROUP)
    application.add_handlers(family.build_absorbers(), group=MAIN_GROUP)  # handled in FAMILY_GROUP
    application.add_handlers(
        staff_imports.build_handlers(), group=MAIN_GROUP
    )  # /import, /lettres, /export
    application.add_handlers(documents.build_staff_handlers(), group=MAIN_GROUP)  # /document
    application.add_handler(
        inbox.build_compose_handler(), group=inbox.COMPOSE_GROUP
    )  # writing to the structure
    # Feature dialogues go here, before home.
    application.add_handlers(inbox.build_handlers(), group=MAIN_GROUP)  # menu:inbox
    application.add_handlers(staff.build_handlers(), group=MAIN_GROUP)  # the admin group
    application.add_handlers(staff_history.build_handlers(), group=MAIN_GROUP)  # /historique
    application.add_handlers(staff_windows.build_handlers(), group=MAIN_GROUP)  # /vacances
    application.add_handlers(staff_custody.build_handlers(), group=MAIN_GROUP)  # /garde
    application.add_handlers(statement.build_handlers(), group=MAIN_GROUP)  # menu:statement
    application.add_handlers(invoices.build_handlers(), group=MAIN_GROUP)
    application.add_handlers(tariffs.build_handlers(), group=MAIN_GROUP)
    application.add_handler(absence_proof.build_handler(), group=absence_proof.PROOF_GROUP)
    application.add_handler(
        absence_proof.build_reason_handler(), group=absence_proof.REASON_GROUP
    )  # ✏️ Autre
    application.add_handler(absence_proof.build_absorber(), group=MAIN_GROUP)
    application.add_handlers(planning_family.build_handlers(), group=MAIN_GROUP)  # before planning
    application.add_handlers(planning.build_handlers(), group=MAIN_GROUP)
    application.add_handlers(reminders.build_handlers(), group=MAIN_GROUP)
    application.add_handlers(home.build_handlers(), group=MAIN_GROUP)
    application.add_handlers(language.build_handlers(), group=MAIN_GROUP)
    application.add_handlers(fallback.build_handlers(), group=MAIN_GROUP)
    application.add_error_handler(handle_error)


SENDER_KEY = "outbox_sender"


def get_sender(application: BotApplication) -> OutboxSender | None:
    """The application's outbox sender, once started."""
    sender: OutboxSender | None = application.bot_data.get(SENDER_KEY)
    return sender


async def _post_init(application: BotApplication) -> None:
    """Publish the command menu, read the holiday data, start the outbox sender."""
    await _publish_commands(application)
    runtime: Runtime = application.bot_data[RUNTIME_KEY]
    preload_calendar(runtime.structure.school_holiday_zone, None, runtime.today().year)
    preload_languages()
    limiter = application.bot.rate_limiter
    sender = OutboxSender(
        runtime,
        application.bot,
        limiter if isinstance(limiter, TelegramRateLimiter) else None,
        concurrency=runtime.settings.outbox_concurrency,
    )
    application.bot_data[SENDER_KEY] = sender
    await sender.start()


async def _stop_sender(application: BotApplication) -> None:
    """Let the sends in flight finish, then stop the sender; give the scheduler lock back."""
    sender = get_sender(application)
    if sender is not None:
        await sender.stop()
    lease = get_lease(application.bot_data[RUNTIME_KEY])
    if lease is not None:
        await lease.release()  # the job queue stopped before post_stop


async def _close_database(application: BotApplication) -> None:
    """Close the pool: aiosqlite's connection threads would otherwise keep the process alive."""
    await application.bot_data[RUNTIME_KEY].database.dispose()


async def _publish_commands(application: BotApplication) -> None:
    """The command menu of Telegram's app, in French by default and in English."""
    for language_code in ("fr", "en"):
        with use_language(language_code):
            commands = [
                BotCommand("accueil", _("Home screen")),
                BotCommand("start", _("Link my account")),
                BotCommand("rappels", _("My reminders")),
                BotCommand("langue", _("Change language")),
                BotCommand("tarifs", _("My current tariffs")),
                BotCommand("mesdonnees", _("All my data (GDPR)")),
                BotCommand("deconnexion", _("Log out")),
            ]
        await application.bot.set_my_commands(
            commands, language_code=None if language_code == "fr" else language_code
        )
    logging.getLogger(__name__).info("bot commands published")


ALLOWED_UPDATES = Update.ALL_TYPES
"""What polling asks for (every kind: one the library cannot decode is skipped, see
bot/updates_request.py)."""
HANDLED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,  # answered by nothing on purpose (bot/update_guard.py)
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,  # the bot added to or removed from the admin group
    Update.CHAT_MEMBER,  # staff joining or leaving the admin group
    Update.PRE_CHECKOUT_QUERY,  # Telegram Payments
]
"""The kinds of update some handler takes: what `setWebhook` asks Telegram for."""
