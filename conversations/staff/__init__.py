"""The staff's admin group: request cards and decisions, family messages, running the day.

`build_handlers()` lists every staff handler (register them in the main group, before the
catch-all fallbacks); `install(application)` publishes the staff commands in the admin group's
command menu. Importing the package registers the outbox templates of the admin group
("staff.request_card", "staff.card_update", "staff.family_message" …) and of the family's
notice of a decision ("requests.decided").

Other features never call this package: a service creating a request goes through
`bot.services.requests.submit_request`, which queues the card in the request's transaction;
deciding on the structure's behalf goes through `bot.services.request_cards.decide_and_tell`.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.i18n import _
from bot.ptb_types import AnyHandler, BotApplication
from bot.runtime import RUNTIME_KEY, Runtime
from conversations.staff import (
    announcements,
    attendance,
    cards,
    day,
    decisions,
    family_pick,
    group_replies,
    help,
    membership,
    payments,
    relay,
)
from conversations.staff.common import staff_language

logger = logging.getLogger(__name__)


def build_handlers() -> list[AnyHandler]:
    """Every staff handler."""
    return [
        *cards.build_handlers(),
        *decisions.build_handlers(),
        *relay.build_handlers(),
        *announcements.build_handlers(),
        *day.build_handlers(),
        *group_replies.build_handlers(),
        *membership.build_handlers(),
        *family_pick.build_handlers(),
        *help.build_handlers(),
        *payments.build_handlers(),  # /facturer, /paiement, /annuler_paiement
        *attendance.build_handlers(),  # /pointage and its buttons, /contrat
    ]


def install(application: BotApplication) -> None:
    """Once started, publish the staff commands in the admin group."""
    if application.job_queue is not None:
        application.job_queue.run_once(_publish_staff_commands, when=0.5, name="staff-commands")


def staff_commands() -> list[BotCommand]:
    """The admin group's command menu."""
    with staff_language():
        return [
            BotCommand("demandes", _("Pending requests")),
            BotCommand("message", _("Write to a family: /message N_FAMILLE text")),
            BotCommand("annonce", _("Announcement to every family")),
            BotCommand("invite", _("Invitation link and QR code of a family")),
            BotCommand("fermeture", _("Close a day: /fermeture DATE [service] reason")),
            BotCommand("reouvrir", _("Reopen a closed day: /reouvrir DATE [service]")),
            BotCommand(
                "annuler_paiement",
                _("Cancel a payment recorded by mistake: /annuler_paiement N_REGLEMENT"),
            ),
            BotCommand("effectifs", _("Headcount per service (tomorrow by default)")),
            BotCommand("pointage", _("Take attendance: /pointage [service] [DATE]")),
            BotCommand("contrat", _("Regular days: /contrat N_FAMILLE FIRST_NAME SERVICE lun,mar")),
            BotCommand("famille", _("A family's record")),
            BotCommand("vacances", _("Holiday booking window: /vacances START END OPENS CLOSES")),
            BotCommand("garde", _("Garde alternée: /garde N_FAMILLE FIRST_NAME MODE")),
            BotCommand("historique", _("History of a family's day: /historique N_FAMILLE DATE")),
            BotCommand("facturer", _("Issue a month's invoices: /facturer novembre")),
            BotCommand("paiement", _("Record a payment: /paiement N_FAMILLE AMOUNT METHOD")),
            BotCommand(
                "documents", _("Published documents (reply /document Titre to a file to publish)")
            ),
            BotCommand("aide", _("Every staff command and how to write it")),
            BotCommand("import", _("Import the families: send the file with the caption /import")),
            BotCommand("lettres", _("Invitation letters to print: /lettres [tous | N_FAMILLE…]")),
            BotCommand(
                "export", _("Invoices and payments of a month for the accounts: /export YYYY-MM")
            ),
        ]


async def _publish_staff_commands(context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime: Runtime = context.application.bot_data[RUNTIME_KEY]
    chat_id = runtime.settings.admin_chat_id
    if chat_id is None:
        return
    try:
        await context.bot.set_my_commands(staff_commands(), scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        logger.warning("staff commands not published in the admin group: %s", type(exc).__name__)
