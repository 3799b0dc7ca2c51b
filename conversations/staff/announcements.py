"""`/annonce texte`: a message from the structure to every linked family, after confirmation.

The staff member sees how many families and accounts will receive it and confirms; the
service stores it in every family's inbox and queues one outbox message per account, which
the sender delivers under Telegram's limits (a restart resumes it). Accounts that blocked the
bot are noted unreachable by the sender and counted in the report the staff member gets once
every message has ended. A double tap on "Send" sends once (the draft is used once).
"""

from __future__ import annotations

import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.i18n import _, current_language, from_sender, ngettext
from bot.outgoing import Outgoing, Params, template
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services.announcements import (
    TEMPLATE_ANNOUNCEMENT,
    TEMPLATE_REPORT,
    DeliveryReport,
    announcement_report,
    announcement_text,
    audience,
    cancel_announcement,
    publish_announcement,
)
from bot.telegram_text import fits, split
from conversations.common import TAB_INBOX, answer_query, escape, user_id_of
from conversations.staff.common import Context, in_admin_chat, staff_action, staff_name
from conversations.usages import usage

DRAFTS_KEY = "announcement_drafts"
"""chat_data key: {token: text} of announcements waiting for confirmation (persisted)."""
MAX_DRAFTS = 5


@staff_action("staff.announce")
async def announce(update: Update, context: Context) -> None:
    """/annonce texte: show who will receive it and ask for confirmation."""
    message = update.effective_message
    if message is None:
        return
    text = _command_body(message)
    if not text:
        await message.reply_text(usage("annonce"))
        return
    runtime = get_runtime(context)
    reach = await audience(runtime.database, staff_id=user_id_of(update), now=runtime.now())
    if reach.accounts == 0:
        await message.reply_text(
            _("No family has linked a Telegram account yet: nobody would receive it.")
        )
        return
    drafts = _drafts(context)
    while len(drafts) >= MAX_DRAFTS:
        drafts.pop(next(iter(drafts)))
    token = secrets.token_hex(4)
    drafts[token] = text
    who = ngettext("{count} family", "{count} families", reach.families).format(
        count=reach.families
    )
    accounts = ngettext(
        "{count} Telegram account", "{count} Telegram accounts", reach.accounts
    ).format(count=reach.accounts)
    preview = _("📢 <b>Announcement</b> to {families} ({accounts}):").format(
        families=who, accounts=accounts
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("✅ Send"),
                    callback_data=callbacks.build(callbacks.STAFF_ANNOUNCE, "yes", token),
                ),
                InlineKeyboardButton(
                    _("✖️ Cancel"),
                    callback_data=callbacks.build(callbacks.STAFF_ANNOUNCE, "no", token),
                ),
            ]
        ]
    )
    pieces = preview_pieces(preview, text, _("Send it?"))
    for piece in pieces[:-1]:
        await message.reply_text(piece)
    await message.reply_text(pieces[-1], reply_markup=keyboard)


PREVIEW_PIECE = 3800
"""Units of the announcement's text per preview message (its header or question fits beside)."""


def preview_pieces(header: str, body: str, question: str) -> list[str]:
    """The preview of an announcement, whole, in as many messages as Telegram needs: the header
    first, the text (cut between lines, each piece escaped on its own), the question last."""
    chunks = [escape(chunk) for chunk in split(body, PREVIEW_PIECE)]
    chunks[0] = f"{header}\n\n{chunks[0]}"
    chunks[-1] = f"{chunks[-1]}\n\n{question}"
    return chunks


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
        await answer_query(
            update, _("This announcement was already sent or cancelled."), show_alert=True
        )
        return
    runtime = get_runtime(context)
    if parsed.arg(0) != "yes":
        await cancel_announcement(runtime.database, staff_id=user_id_of(update), now=runtime.now())
        await answer_query(update)
        await query.edit_message_text(_("Announcement cancelled."))
        return
    await answer_query(update, _("Sending…"))
    in_group = in_admin_chat(query.message.chat, runtime)
    publication = await publish_announcement(
        runtime.database,
        body=text,
        staff_id=user_id_of(update),
        staff_name=staff_name(update.effective_user),
        now=runtime.now(),
        report_chat_id=None if in_group else query.message.chat.id,
        report_language=None if in_group else current_language(),
    )
    sending = ngettext(
        "📢 Sending the announcement to {count} account…",
        "📢 Sending the announcement to {count} accounts…",
        publication.accounts,
    ).format(count=publication.accounts)
    shown = f"{sending}\n\n{escape(text)}"
    await query.edit_message_text(shown if fits(shown) else sending)


@template(TEMPLATE_ANNOUNCEMENT)
async def _announcement(runtime: Runtime, params: Params) -> Outgoing | None:
    """The announcement as a parent reads it, with a button to their inbox."""
    body = await announcement_text(runtime.database, int(params["message_id"]))
    if body is None:
        return None
    sender = escape(from_sender(runtime.structure.sender_name()))
    text = (
        _("📢 <b>Announcement {from_sender}</b>").format(from_sender=sender) + f"\n\n{escape(body)}"
    )
    return Outgoing(text, keyboard=_parent_keyboard())


@template(TEMPLATE_REPORT)
async def _report(runtime: Runtime, params: Params) -> Outgoing | None:
    """The staff's summary, once every message of the announcement has ended (None until then)."""
    report = await announcement_report(runtime.database, params, now=runtime.now())
    return Outgoing(report_text(report)) if report is not None else None


def report_text(report: DeliveryReport) -> str:
    """The staff's summary once everything is sent."""
    lines = [
        ngettext(
            "📢 Announcement sent to {count} account.",
            "📢 Announcement sent to {count} accounts.",
            report.reached,
        ).format(count=report.reached)
    ]
    if report.unreachable:
        lines.append(
            ngettext(
                "⚠️ {count} account has blocked the bot: skipped and noted as unreachable.",
                "⚠️ {count} accounts have blocked the bot: skipped and noted as unreachable.",
                report.unreachable,
            ).format(count=report.unreachable)
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
        [
            [
                InlineKeyboardButton(
                    _("✉️ Inbox"), callback_data=callbacks.build(callbacks.MENU, TAB_INBOX)
                )
            ]
        ]
    )


def _drafts(context: Context) -> dict[str, str]:
    chat_data = context.chat_data if context.chat_data is not None else {}
    drafts: dict[str, str] = chat_data.setdefault(DRAFTS_KEY, {})  # chat_data holds Any
    return drafts


def build_handlers() -> list[AnyHandler]:
    """/annonce and its confirmation buttons."""
    return [
        CommandHandler("annonce", announce),
        CallbackQueryHandler(confirm, pattern=callbacks.pattern(callbacks.STAFF_ANNOUNCE)),
    ]
