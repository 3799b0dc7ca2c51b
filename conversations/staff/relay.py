"""Boîte de réception, staff side: family messages shown in the admin group, answers, /message.

A family's message is an outbox row queued when the parent sends it; the sender posts it in
the group with the family's name and number ("staff.family_message", registered here) and
remembers which group message shows it. A staff member answers by replying to it: the answer
is stored in the family's inbox and queued to every linked account of the family in one
transaction. `/message N_FAMILLE texte` writes to a family unprompted.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update
from telegram.ext import CommandHandler

from bot.i18n import _, ngettext
from bot.outgoing import Attachment, Outgoing, Params, template
from bot.ptb_types import AnyHandler
from bot.runtime import Runtime, get_runtime
from bot.services import inbox as inbox_service
from bot.services.inbox import FAMILY_MESSAGE_TEMPLATE, StaffMessage, UnknownFamily
from conversations.common import escape
from conversations.staff.common import Context, command_text, staff_action, staff_name
from conversations.staff.family_pick import family_argument, register_pick
from conversations.staff.render import relay_text
from conversations.usages import usage
from storage.db import UnitOfWork


async def _remember_relay(uow: UnitOfWork, params: Params, message_ids: Sequence[int]) -> None:
    if message_ids:
        await inbox_service.mark_relayed(uow, int(params["message_id"]), message_ids[-1])


@template(FAMILY_MESSAGE_TEMPLATE, on_sent=_remember_relay)
async def _family_message(runtime: Runtime, params: Params) -> Outgoing | None:
    """A family's message in the admin group: its photo or PDF with the text as caption when it
    fits one (1,024 units), else the file then the whole text (`bot.outgoing.deliver`)."""
    view = await inbox_service.family_message_view(runtime.database, int(params["message_id"]))
    if view is None:
        return None
    tz, message = runtime.settings.tz, view.message
    attachment = None
    if message.attachment_file_id:
        attachment = Attachment(message.attachment_file_id, message.attachment_kind or "document")
    return Outgoing(relay_text(view, tz), attachment=attachment)


def delivery_text(sent: StaffMessage) -> str:
    """Told to staff after writing to a family."""
    family = _("{name} family (no. {number})").format(
        name=escape(sent.family_name or "—"), number=escape(sent.family_number)
    )
    reachable = sent.accounts - sent.blocked
    if reachable > 0:
        text = ngettext(
            "✅ Sent to the {family}: {count} account.",
            "✅ Sent to the {family}: {count} accounts.",
            reachable,
        ).format(family=family, count=reachable)
    else:
        text = _(
            "📭 The {family} has no reachable Telegram account: the message waits in its inbox."
        ).format(family=family)
    if sent.blocked:
        text += "\n" + ngettext(
            "⚠️ {count} account has blocked the bot.",
            "⚠️ {count} accounts have blocked the bot.",
            sent.blocked,
        ).format(count=sent.blocked)
    return text


@staff_action("staff.reply_family")
async def answer_family(update: Update, context: Context) -> None:
    """A staff reply in the group to a family's message: send it to the family."""
    message, user = update.effective_message, update.effective_user
    if message is None or message.reply_to_message is None or user is None:
        return
    body = message.text or message.caption or ""
    attachment_id, attachment_kind = None, None
    if message.photo:
        attachment_id, attachment_kind = message.photo[-1].file_id, "photo"
    elif message.document:
        attachment_id, attachment_kind = message.document.file_id, "document"
    if not body.strip() and attachment_id is None:
        await message.reply_text(_("Only a text, a photo or a document can be sent to a family."))
        return
    runtime = get_runtime(context)
    sent = await inbox_service.reply_from_staff(
        runtime.database,
        admin_message_id=message.reply_to_message.message_id,
        staff_id=user.id,
        staff_name=staff_name(user),
        body=body,
        now=runtime.now(),
        attachment_file_id=attachment_id,
        attachment_kind=attachment_kind,
    )
    if sent is not None:  # None: the message replied to shows no family's message
        await message.reply_text(delivery_text(sent))


@staff_action("staff.message_family")
async def message_family(update: Update, context: Context) -> None:
    """/message N_FAMILLE texte: write to one family."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    words = command_text(update).split(maxsplit=1)
    if len(words) < 2 or not words[1].strip():
        await message.reply_text(usage("message"))
        return
    number = await family_argument(update, context, "message", words[0], words[1])
    if number is not None:
        await send_to_family(update, context, number, words[1])


async def send_to_family(update: Update, context: Context, number: str, body: str) -> None:
    """/message's text to the family of a N° famille (also after choosing among several of a name)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    runtime = get_runtime(context)
    try:
        sent = await inbox_service.message_family(
            runtime.database,
            family_number=number,
            staff_id=user.id,
            staff_name=staff_name(user),
            body=body,
            now=runtime.now(),
        )
    except UnknownFamily:
        await message.reply_text(
            _("No family has the number {number}.").format(number=escape(number))
        )
        return
    await message.reply_text(delivery_text(sent))


register_pick("message", send_to_family)


def build_handlers() -> list[AnyHandler]:
    """/message (replies in the group are routed by `conversations.staff.group_replies`)."""
    return [CommandHandler("message", message_family)]
