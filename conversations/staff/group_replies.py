"""Replies in the admin group to the bot's messages: a refusal's reason, or an answer to a family.

Staff talk among themselves in the group too; only a reply to one of the bot's questions or to
a family's message does something, and only for staff.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from conversations.staff import decisions, relay
from conversations.staff.common import Context, in_admin_chat


async def on_reply(update: Update, context: Context) -> None:
    """Route a reply to the bot: the reason of a refusal, or an answer to a family."""
    message, chat = update.effective_message, update.effective_chat
    runtime = get_runtime(context)
    if message is None or not in_admin_chat(chat, runtime):
        return
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != context.bot.id:
        return
    if decisions.is_reason_prompt(context, target.message_id):
        await decisions.typed_reason(update, context)
    else:  # answers the family when the message replied to shows one of theirs
        await relay.answer_family(update, context)


def build_handlers() -> list[AnyHandler]:
    """Replies (text, photo or document) in groups; other groups are ignored in the handler."""
    return [
        MessageHandler(
            filters.ChatType.GROUPS
            & filters.REPLY
            & (filters.TEXT | filters.PHOTO | filters.Document.ALL)
            & ~filters.COMMAND,
            on_reply,
        )
    ]
