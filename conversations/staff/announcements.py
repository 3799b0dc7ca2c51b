"""`/annonce texte`: a message from the structure to every linked family, after confirmation.

The staff member sees how many families and accounts will receive it and confirms; the
announcement is stored in every family's inbox and sent to each account at a pace under
Telegram's limit. Accounts that blocked the bot are skipped, noted unreachable, and counted in
the report; the others still receive it. A double tap on "Send" sends once.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import nullcontext
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.i18n import _, ngettext
from bot.runtime import Runtime, get_runtime
from bot.services.announcements import audience, publish_announcement, record_sending
from conversations.common import TAB_INBOX, escape
from conversations.notify import DeliveryReport, Pacer, send_to_recipients
from conversations.staff.common import Context, in_admin_chat, staff_action, staff_language, staff_name

logger = logging.getLogger(__name__)

DRAFTS_KEY = "announcement_drafts"
"""chat_data key: {token: text} of announcements waiting for confirmation (persisted)."""
MAX_DRAFTS = 5
SENDS_PER_SECOND = 20
"""Telegram allows about 30 messages a second in all; the rest is left to the parents' dialogues."""


@staff_action("staff.announce")
async def announce(update: Update, context: Context) -> None:
    """/annonce texte: show who will receive it and ask for confirmation."""
    message = update.effective_message
    if message is None:
        return
    text = _command_body(message)
    if not text:
        await message.reply_text(_("Usage: /annonce text of the announcement (it may span several lines)."))
        return
    runtime = get_runtime(context)
    async with runtime.database.unit_of_work() as uow:
        reach = await audience(uow)
    if reach.accounts == 0:
        await message.reply_text(_("No family has linked a Telegram account yet: nobody would receive it."))
        return
    drafts = _drafts(context)
    while len(drafts) >= MAX_DRAFTS:
        drafts.pop(next(iter(drafts)))
    token = secrets.token_hex(4)
    drafts[token] = text[:4000]
    who = ngettext("{count} family", "{count} families", reach.families).format(count=reach.families)
    accounts = ngettext("{count} Telegram account", "{count} Telegram accounts", reach.accounts).format(count=reach.accounts)
    preview = _("📢 <b>Announcement</b> to {families} ({accounts}):").format(families=who, accounts=accounts)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("✅ Send"), callback_data=callbacks.build(callbacks.STAFF_ANNOUNCE, "yes", token)),
                InlineKeyboardButton(_("✖️ Cancel"), callback_data=callbacks.build(callbacks.STAFF_ANNOUNCE, "no", token)),
            ]
        ]
    )
    await message.reply_text(f"{preview}\n\n{escape(text)}\n\n" + _("Send it?"), reply_markup=keyboard)


def _command_body(message: Message) -> str:
    parts = (message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


@staff_action("staff.announce_confirm")
async def confirm(update: Update, context: Context) -> None:
    """✅ Envoyer / ✖️ Annuler under the preview; a draft is used once."""
    query = update.callback_query
    parsed = callbacks.parse(query.data if query else None)
    if query is None or parsed is None or not isinstance(query.message, Message):
        return
    text = _drafts(context).pop(parsed.arg(1), None)
    if text is None:
        await query.answer(_("This announcement was already sent or cancelled."), show_alert=True)
        return
    if parsed.arg(0) != "yes":
        await query.answer()
        await query.edit_message_text(_("Announcement cancelled."))
        return
    await query.answer(_("Sending…"))
    runtime = get_runtime(context)
    user = update.effective_user
    async with runtime.database.unit_of_work() as uow:
        publication = await publish_announcement(
            uow, body=text, staff_id=user.id if user else 0, staff_name=staff_name(user), now=runtime.now()
        )
        await uow.commit()
    count = len(publication.recipients)
    sending = ngettext(
        "📢 Sending the announcement to {count} account…", "📢 Sending the announcement to {count} accounts…", count
    ).format(count=count)
    await query.edit_message_text(f"{sending}\n\n{escape(text)}")
    context.application.create_task(
        _fan_out(context.bot, runtime, publication.recipients, text, query.message, user.id if user else 0),
        update=update,
    )


async def _fan_out(bot: Any, runtime: Runtime, recipients: Any, text: str, preview: Message, staff_id: int) -> None:
    sender = escape(runtime.structure.service_name or runtime.structure.name)

    def body() -> str:
        return _("📢 <b>Announcement from {sender}</b>").format(sender=sender) + f"\n\n{escape(text)}"

    report = await send_to_recipients(
        bot, recipients, body, keyboard=_parent_keyboard, pacer=Pacer(SENDS_PER_SECOND)
    )
    async with runtime.database.unit_of_work() as uow:
        await record_sending(
            uow, reached=report.reached, unreachable=report.unreachable, failed=report.failed,
            staff_id=staff_id, now=runtime.now(),
        )
        await uow.commit()
    in_group = in_admin_chat(preview.chat, runtime)
    with staff_language() if in_group else nullcontext():
        summary = report_text(report)
    try:
        await preview.reply_text(summary)
    except TelegramError as exc:
        logger.warning("announcement report not posted: %s", type(exc).__name__)


def report_text(report: DeliveryReport) -> str:
    """The staff's summary once everything is sent."""
    lines = [
        ngettext(
            "📢 Announcement sent to {count} account.", "📢 Announcement sent to {count} accounts.", len(report.reached)
        ).format(count=len(report.reached))
    ]
    if report.unreachable:
        lines.append(
            ngettext(
                "⚠️ {count} account has blocked the bot: skipped and noted as unreachable.",
                "⚠️ {count} accounts have blocked the bot: skipped and noted as unreachable.",
                len(report.unreachable),
            ).format(count=len(report.unreachable))
        )
    if report.failed:
        lines.append(
            ngettext(
                "❗ {count} account could not be reached because of an error.",
                "❗ {count} accounts could not be reached because of an error.",
                report.failed,
            ).format(count=report.failed)
        )
    lines.append(_("It is also in each family's inbox."))
    return "\n".join(lines)


def _parent_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(_("✉️ Inbox"), callback_data=callbacks.build(callbacks.MENU, TAB_INBOX))]]
    )


def _drafts(context: Context) -> dict[str, str]:
    chat_data = context.chat_data if context.chat_data is not None else {}
    return chat_data.setdefault(DRAFTS_KEY, {})


def build_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """/annonce and its confirmation buttons."""
    return [
        CommandHandler("annonce", announce),
        CallbackQueryHandler(confirm, pattern=callbacks.pattern(callbacks.STAFF_ANNOUNCE)),
    ]
