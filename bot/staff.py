"""Who is staff: members and administrators of the admin group, or listed in STAFF_USER_IDS.

Membership is asked to the Bot API (getChatMember) and cached for a short time: two minutes
in one process (a member joining or leaving the group is forgotten at once, by the
`chat_member` update), ten seconds on PostgreSQL, where several workers may serve the bot and
that update reaches only one of them. Handlers of
staff commands and buttons are wrapped with `staff_only`, which refuses anyone else and writes
the attempt to the audit log (`record_refusal`, a use case of its own: one transaction).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.i18n import _
from bot.runtime import Runtime, get_runtime
from bot.services.use_case import use_case
from storage.db import Database

logger = logging.getLogger(__name__)

CACHE_SECONDS = 120.0
SHARED_CACHE_SECONDS = 10.0
"""The cache's life when other workers may have seen the membership change (PostgreSQL)."""
ACTION_STAFF_REFUSED = "staff.refused"
_STAFF_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, Any]]


class StaffDirectory:
    """Answers "is this user staff?", caching the Bot API's answers for `CACHE_SECONDS`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cache: dict[int, tuple[bool, float]] = {}

    async def is_staff(self, bot: Any, runtime: Runtime, user_id: int) -> bool:
        """True for STAFF_USER_IDS and for members of the admin group."""
        if user_id in runtime.settings.staff_ids:
            return True
        admin_chat_id = runtime.settings.admin_chat_id
        if admin_chat_id is None:
            return False
        cached = self._cache.get(user_id)
        ttl = SHARED_CACHE_SECONDS if runtime.database.backend == "postgresql" else CACHE_SECONDS
        if cached is not None and self._clock() - cached[1] < ttl:
            return cached[0]
        try:
            member = await bot.get_chat_member(admin_chat_id, user_id)
            answer = member.status in _STAFF_STATUSES
        except TelegramError as exc:
            logger.warning("could not check staff membership: %s", type(exc).__name__)
            return False
        self._cache[user_id] = (answer, self._clock())
        return answer

    def forget(self, user_id: int | None = None) -> None:
        """Drop cached answers (one user's, or all), e.g. when the group's members change."""
        if user_id is None:
            self._cache.clear()
        else:
            self._cache.pop(user_id, None)


def get_staff_directory(context: ContextTypes.DEFAULT_TYPE) -> StaffDirectory:
    """The application's staff directory (created on first use)."""
    directory = context.application.bot_data.get("staff_directory")
    if directory is None:
        directory = StaffDirectory()
        context.application.bot_data["staff_directory"] = directory
    return directory


def staff_only(action: str) -> Callable[[Handler], Handler]:
    """Wrap a staff handler: non-staff are refused in French and the attempt is audited."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
            user = update.effective_user
            runtime = get_runtime(context)
            if user is not None and await get_staff_directory(context).is_staff(
                context.bot, runtime, user.id
            ):
                return await handler(update, context)
            await _refuse(update, runtime, action)
            return None

        return guarded

    return decorate


async def record_refusal(
    db: Database,
    *,
    action: str,
    actor_id: int | None,
    actor_kind: str,
    target: str | None,
    now: dt.datetime,
) -> None:
    """Audit a staff command or button refused by a guard (who, or where, was wrong)."""
    async with use_case(db) as uow:
        uow.repos.audit.record(
            action=action,
            outcome="refused",
            actor_telegram_id=actor_id,
            actor_kind=actor_kind,
            target=target,
            at=now,
        )


async def _refuse(update: Update, runtime: Runtime, action: str) -> None:
    user = update.effective_user
    await record_refusal(
        runtime.database,
        action=ACTION_STAFF_REFUSED,
        actor_id=user.id if user else None,
        actor_kind="anonymous",
        target=action,
        now=runtime.now(),
    )
    text = _("This action is reserved for the staff of the structure.")
    if update.callback_query is not None:
        try:  # best effort: a query too old must not hide the refusal's audit or stop anything
            await update.callback_query.answer(text, show_alert=True)
        except TelegramError:
            logger.info("callback query of a refused staff action not answered")
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)
