"""python-telegram-bot's generic classes with the type arguments of this bot, in one place.

`build_application` makes an `Application` with the default context types, no arbitrary
callback data and our own rate limiter (`bot.ratelimit.TelegramRateLimiter`, whose per-call
arguments are a `str`); the handlers are registered the way `Application.add_handler` takes
them, any update type and any callback result.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from telegram.ext import (
    Application,
    BaseHandler,
    ContextTypes,
    ConversationHandler,
    ExtBot,
    JobQueue,
)

Context: TypeAlias = ContextTypes.DEFAULT_TYPE
"""What every callback of this bot receives (`context.bot_data` holds the runtime)."""

BotApplication: TypeAlias = Application[
    ExtBot[str], Context, dict[Any, Any], dict[Any, Any], dict[Any, Any], JobQueue[Context]
]
"""The application `bot.app.build_application` builds."""

AnyHandler: TypeAlias = BaseHandler[Any, Context, Any]
"""A handler of any kind, as `Application.add_handler` accepts it."""

Conversation: TypeAlias = ConversationHandler[Context]
"""A dialogue's `ConversationHandler`."""
