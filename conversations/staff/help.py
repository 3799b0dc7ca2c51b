"""`/aide`: the staff commands with how each is written, in the group and in a staff member's
private chat (where `/start` opens the parents' linking instead).

Anyone else gets a short pointer to the parents' screens (nothing about staff is shown, and
nothing is audited as a refusal: asking for help is not an attempt at a staff action).
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler

from bot.i18n import N_, _
from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.staff import get_staff_directory
from bot.telegram_text import split
from conversations.staff.common import Context, in_admin_chat, staff_language
from conversations.usages import USAGES, usage

COMMAND = "aide"
LISTS: tuple[tuple[str, str], ...] = (
    ("demandes", N_("/demandes — the pending requests, oldest first, each with its card.")),
    (
        "documents",
        N_(
            "/documents — the published documents (reply /document Titre to a file to publish one)."
        ),
    ),
    ("aide", N_("/aide — this help.")),
)
"""Commands without arguments (no usage line of their own)."""


def help_text(services: str) -> str:
    """Every staff command, with how it is written (in the current language)."""
    lines = [
        _("🛠 <b>Staff commands</b>"),
        _(
            "Where a command takes a family, type its N° famille or a guardian's name (/famille DUPONT)."
        ),
        _("Dates: 24/11/2026, 24/11, demain, jeudi, 3 décembre."),
        "",
    ]
    lines += [_(text) for _command, text in LISTS]
    for command in USAGES:
        lines += ["", usage(command, services=services)]
    return "\n".join(lines)


async def show_help(update: Update, context: Context) -> None:
    """/aide: the staff's help for staff; a pointer to the parents' screens for anyone else."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    runtime = get_runtime(context)
    in_group = in_admin_chat(chat, runtime)
    if not (in_group or chat.type == ChatType.PRIVATE):
        return
    if not await get_staff_directory(context).is_staff(context.bot, runtime, user.id):
        if chat.type == ChatType.PRIVATE:
            await message.reply_text(
                _(
                    "Send /accueil to open your family's home screen, or /start to link your account."
                )
            )
        return
    services = ", ".join(service.code for service in runtime.structure.services)
    if in_group:
        with staff_language():
            pieces = split(help_text(services))
    else:
        pieces = split(help_text(services))
    for piece in pieces:
        await message.reply_text(piece)


def build_handlers() -> list[AnyHandler]:
    """/aide."""
    return [CommandHandler(COMMAND, show_help)]
