"""The error handler: log without personal data, and answer the user in French."""

from __future__ import annotations

import logging
import traceback

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from bot.i18n import _

logger = logging.getLogger("portail_famille.errors")


def describe_error(error: BaseException) -> str:
    """The exception's type and where it happened, without its message (which may hold data)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = " <- ".join(f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}:{frame.name}" for frame in reversed(frames[-6:]))
    return f"{type(error).__name__} at {where or '?'}"


async def handle_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (type and place only) and tell the user something went wrong."""
    error = context.error
    if error is None:
        return
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, (NetworkError, TimedOut, RetryAfter)) and not isinstance(error, BadRequest):
        logger.warning("telegram network issue on update %s: %s", update_id, type(error).__name__)
        return
    logger.error("error on update %s: %s", update_id, describe_error(error))
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except Exception:  # noqa: BLE001 - the query may be too old; nothing more to do
            pass
    if update.effective_chat.type == "private":
        await update.effective_chat.send_message(
            _("Sorry, something went wrong. Nothing was lost: try again, or send /accueil to go back to the menu.")
        )
