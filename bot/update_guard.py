"""The first handler every update meets (group `GUARD_GROUP`, before the language middleware).

- **Re-delivery**: the update's id is named for the use cases (`handling_update`); the first one
  that writes records it in the transaction of its effect, and a second delivery ends there
  (`AlreadyHandled`) before changing anything. A screen that only reads is simply shown again.
- **Foreign groups**: in a group, supergroup or channel that is not the admin group the bot
  answers nothing and leaves it (`leaveChat`), once the admin group is configured (before, it
  only stays silent, so that the operator can read the new group's id).
- **Edits**: an edited message is not a new message and does nothing (a staff member who edits
  a reply or a /message does not send the family a second one; to correct, send a new one).
- **Floods**: each user has a small token bucket; an update beyond it is dropped, with at most
  one polite answer until the bucket refills.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.i18n import _
from bot.runtime import get_runtime
from bot.services.use_case import handling_update

logger = logging.getLogger("portail_famille.guard")

GUARD_GROUP = -100
BURST = 40
"""Updates a user may send at once."""
PER_SECOND = 3.0
"""Updates a user may send per second, sustained."""
FORGET_AFTER = 10_000
"""Users remembered before full buckets are forgotten."""

Context = ContextTypes.DEFAULT_TYPE


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class UserThrottle:
    """A token bucket per user: `allow(user_id)` is False for an update beyond the user's budget."""

    def __init__(
        self,
        burst: int = BURST,
        per_second: float = PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self.clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def allow(self, user_id: int) -> bool:
        """Take one token of the user's bucket, if there is one."""
        now = self.clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= FORGET_AFTER:
                self._forget_idle(now)
            bucket = self._buckets[user_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            if bucket.tokens >= self.burst / 2:
                bucket.warned = False
            return True
        return False

    def should_warn(self, user_id: int) -> bool:
        """True once per flood: the first dropped update gets a polite answer, the next none."""
        bucket = self._buckets.get(user_id)
        if bucket is None or bucket.warned:
            return False
        bucket.warned = True
        return True

    def _forget_idle(self, now: float) -> None:
        for user_id in [
            u
            for u, b in self._buckets.items()
            if b.tokens + (now - b.at) * self.per_second >= self.burst
        ]:
            del self._buckets[user_id]


THROTTLE_KEY = "user_throttle"
LEFT_KEY = "left_groups"


def get_throttle(context: Context) -> UserThrottle:
    """The application's per-user throttle."""
    throttle: UserThrottle | None = context.bot_data.get(THROTTLE_KEY)
    if throttle is None:
        throttle = context.bot_data[THROTTLE_KEY] = UserThrottle()
    return throttle


def _is_foreign_group(update: Update, admin_chat_id: int | None) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type != ChatType.PRIVATE and chat.id != admin_chat_id


async def guard(update: Update, context: Context) -> None:
    """Skip re-deliveries, leave foreign groups, drop one user's flood (see the module)."""
    runtime = get_runtime(context)
    admin_chat_id = runtime.settings.admin_chat_id
    if update.edited_message is not None or update.edited_channel_post is not None:
        raise ApplicationHandlerStop  # an edit is not a new message: nothing is sent again
    if _is_foreign_group(update, admin_chat_id):
        await _leave(update, context, admin_chat_id)
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is not None and not get_throttle(context).allow(user.id):
        if get_throttle(context).should_warn(user.id):
            await _too_fast(update)
        logger.info("update %s dropped: too many updates from one user", update.update_id)
        raise ApplicationHandlerStop
    handling_update(update.update_id)


async def _leave(update: Update, context: Context, admin_chat_id: int | None) -> None:
    chat = update.effective_chat
    if chat is None or admin_chat_id is None:
        return  # no admin group yet: silent, so that the operator can read the group's id
    left: set[int] = context.bot_data.setdefault(LEFT_KEY, set())
    joined_again = (
        update.my_chat_member is not None
        and update.my_chat_member.new_chat_member.status in ("member", "administrator")
    )
    if chat.id in left and not joined_again:
        return
    left.add(chat.id)
    logger.warning("the bot is in a group that is not the admin group (%s): leaving it", chat.id)
    try:
        await context.bot.leave_chat(chat.id)
    except TelegramError as error:
        logger.info("leaving group %s failed: %s", chat.id, type(error).__name__)


async def _too_fast(update: Update) -> None:
    text = _("You are sending a lot at once: please wait a few seconds, then try again.")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text)
        elif update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE:
            await update.effective_chat.send_message(text)
    except TelegramError:
        pass


def build_guard() -> TypeHandler[Update, Context, None]:
    """The guard, for `GUARD_GROUP`."""
    return TypeHandler(Update, guard)
