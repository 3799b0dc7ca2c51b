"""What every staff handler shares: the staff guard with its audit, the admin group, names.

`staff_action(name)` wraps a handler: non-staff are refused and audited (`bot.staff.staff_only`),
and staff commands are refused, and audited, in any group other than the admin group (a
parents' group must never see admin content). An allowed action is audited by the staff
service that performs it, in its own transaction and with its real outcome
(`bot.services.staff_audit.audit_staff`). Texts posted in the admin group are in French,
whatever the language of the staff member's app.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Chat, Update, User
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.i18n import DEFAULT_LANGUAGE, _, use_language
from bot.runtime import Runtime, get_runtime
from bot.staff import record_refusal, staff_only
from conversations.common import answer_query

Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, Any]]

STAFF_LANGUAGE = DEFAULT_LANGUAGE
ACTION_WRONG_CHAT = "staff.wrong_chat"


def admin_chat_id(runtime: Runtime) -> int | None:
    """The staff's group, when configured."""
    return runtime.settings.admin_chat_id


def in_admin_chat(chat: Chat | None, runtime: Runtime) -> bool:
    """True in the staff's group."""
    return (
        chat is not None
        and runtime.settings.admin_chat_id is not None
        and chat.id == runtime.settings.admin_chat_id
    )


def staff_name(user: User | None) -> str:
    """How a staff member is named on cards: their Telegram name."""
    if user is None:
        return "?"
    return (user.full_name or str(user.id))[:120]


def staff_language() -> contextlib.AbstractContextManager[None]:
    """Render texts for the admin group."""
    return use_language(STAFF_LANGUAGE)


def staff_action(action: str) -> Callable[[Handler], Handler]:
    """Guard a staff command or button: staff only, in the admin group or a private chat.

    Refusals are audited here; the action itself is audited by the service it calls.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(update: Update, context: Context) -> Any:
            runtime = get_runtime(context)
            chat, user = update.effective_chat, update.effective_user
            if not (chat is None or chat.type == ChatType.PRIVATE or in_admin_chat(chat, runtime)):
                await record_refusal(
                    runtime.database,
                    action=ACTION_WRONG_CHAT,
                    actor_id=user.id if user else None,
                    actor_kind="staff",
                    target=action,
                    now=runtime.now(),
                )
                await _refuse_place(update)
                return None
            if in_admin_chat(chat, runtime):
                with staff_language():
                    return await handler(update, context)
            return await handler(update, context)

        return staff_only(action)(guarded)

    return decorate


async def _refuse_place(update: Update) -> None:
    text = _("Staff commands work only in the staff group or in a private chat with the bot.")
    if update.callback_query is not None:
        await answer_query(update, text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def command_text(update: Update) -> str:
    """What follows the command (and its @bot suffix), keeping line breaks."""
    message = update.effective_message
    text = (message.text or message.caption or "") if message is not None else ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 and parts[0].startswith("/") else ""
