"""The error handler: log without personal data, and answer the user in French."""

from __future__ import annotations

import contextlib
import logging
import traceback

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ContextTypes

from bot import metrics
from bot.i18n import _
from bot.runtime import get_runtime
from bot.services.notifications import note_unreachable_chat
from bot.services.use_case import AlreadyHandled, NotAllowed, NotLinked
from conversations.common import how_to_link_text  # the parents' wording, in one place

logger = logging.getLogger("portail_famille.errors")


def describe_error(error: BaseException) -> str:
    """The exception's type and where it happened, without its message (which may hold data)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = " <- ".join(
        f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}:{frame.name}"
        for frame in reversed(frames[-6:])
    )
    return f"{type(error).__name__} at {where or '?'}"


async def handle_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (type and place only) and tell the user something went wrong.

    Never writes to a chat that cannot be reached: a 403 (the person blocked the bot, or the
    bot is no longer in the group) is logged once, without a traceback, and the account is
    noted unreachable. A refusal that escaped a handler gets its polite answer, not an apology.
    """
    error = context.error
    if error is None:
        return
    metrics.ERRORS.labels("update", type(error).__name__).inc()
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, AlreadyHandled):
        logger.info("update %s delivered again: already handled", update_id)
        return
    if isinstance(error, Forbidden):
        await _unreachable(update, context)
        return
    if isinstance(error, (NetworkError, TimedOut, RetryAfter)) and not isinstance(
        error, BadRequest
    ):
        logger.warning("telegram network issue on update %s: %s", update_id, type(error).__name__)
        return
    if isinstance(error, (NotLinked, NotAllowed)):
        logger.info("update %s refused: %s", update_id, type(error).__name__)
    else:
        logger.error("error on update %s: %s", update_id, describe_error(error))
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.callback_query is not None:
        with contextlib.suppress(Exception):
            await update.callback_query.answer()
    if update.effective_chat.type != "private":
        return
    try:
        await update.effective_chat.send_message(_apology(error))
    except Forbidden:
        await _unreachable(update, context)
    except TelegramError as failure:
        logger.warning("could not apologise on update %s: %s", update_id, type(failure).__name__)


def _apology(error: BaseException) -> str:
    if isinstance(error, NotLinked):
        return how_to_link_text()
    if isinstance(error, NotAllowed):
        return _("This button is no longer valid.")
    return _(
        "Sorry, something went wrong. Nothing was lost: try again, or send /accueil to go back to the menu."
    )


async def _unreachable(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The chat answered 403: say it once in the log and remember it, write nothing to it."""
    chat = update.effective_chat if isinstance(update, Update) else None
    update_id = update.update_id if isinstance(update, Update) else None
    logger.warning(
        "update %s: the chat cannot be reached (Forbidden); nothing sent to it", update_id
    )
    if chat is not None and chat.type == "private":
        runtime = get_runtime(context)
        try:
            await note_unreachable_chat(runtime.database, chat.id, runtime.now())
        except Exception as failure:
            logger.warning("could not note chat unreachable: %s", describe_error(failure))
