"""Changes of the admin group's members: forget the cached staff answers at once.

`bot.staff.StaffDirectory` caches "is staff" for a short time; when someone joins or leaves
the group (or is promoted), their cached answer is dropped so the change applies immediately.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ChatMemberHandler

from bot.ptb_types import AnyHandler
from bot.runtime import get_runtime
from bot.staff import get_staff_directory
from conversations.staff.common import Context, in_admin_chat

logger = logging.getLogger(__name__)


async def member_changed(update: Update, context: Context) -> None:
    """Someone joined, left or changed role in the admin group."""
    change = update.chat_member
    if change is None or not in_admin_chat(update.effective_chat, get_runtime(context)):
        return
    get_staff_directory(context).forget(change.new_chat_member.user.id)
    logger.info(
        "admin group membership changed: %s -> %s",
        change.old_chat_member.status,
        change.new_chat_member.status,
    )


async def bot_membership_changed(update: Update, context: Context) -> None:
    """The bot itself was added to or removed from the admin group."""
    change = update.my_chat_member
    if change is None or not in_admin_chat(update.effective_chat, get_runtime(context)):
        return
    get_staff_directory(context).forget()
    logger.warning("the bot's status in the admin group is now %s", change.new_chat_member.status)


def build_handlers() -> list[AnyHandler]:
    """Member updates of the admin group (the application asks for every update type)."""
    return [
        ChatMemberHandler(member_changed, ChatMemberHandler.CHAT_MEMBER),
        ChatMemberHandler(bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
    ]
