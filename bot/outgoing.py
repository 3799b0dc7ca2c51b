"""The templates of the messages the bot starts on its own, and what rendering one produces.

Services queue outbox rows naming a template and its params (`bot.services.outbox`); the
dialogue modules that own the words register each template here with `@template(name)`; the
sender (`bot.sender`) renders a row, in the recipient's language, when it sends it.

A renderer returns an `Outgoing` (a message, a file with its caption, or an edit of a message
already sent) or None when there is nothing left to say (the row is then marked skipped). An
`on_sent` hook, given the ids of the messages posted, runs in the transaction that marks the
row sent (e.g. to remember which admin-group message shows a request). Templates that may be
grouped (request cards in a busy group) also register a `digest` renderer, given the params
of several rows, with its own `on_digest_sent` hook.

`deliver` sends an `Outgoing` (split past 4,096 units, the file first when the text is too
long for a caption), for the sender and for a direct answer alike; `classify` is the one
reading of Telegram's errors for it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.ratelimit import BACKGROUND
from bot.runtime import Runtime
from bot.telegram_text import CAPTION_LIMIT, fit_lines, fits, split
from storage.db import UnitOfWork

logger = logging.getLogger(__name__)

Params = dict[str, Any]


@dataclass(frozen=True)
class Attachment:
    """A file already on Telegram's servers, sent again by its file_id."""

    file_id: str
    kind: str  # "photo" or "document"


@dataclass(frozen=True)
class Outgoing:
    """What to send for one outbox row."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    attachment: Attachment | None = None
    edit_message_id: int | None = None
    """Edit this message of the chat (a card's new state) instead of sending a new one."""
    fallback: Outgoing | None = None
    """What to send instead when Telegram refuses this one (e.g. its file can't be shown)."""


Renderer = Callable[[Runtime, Params], Awaitable[Outgoing | None]]
SentHook = Callable[[UnitOfWork, Params, Sequence[int]], Awaitable[None]]
DigestRenderer = Callable[[Runtime, Sequence[Params]], Awaitable[Outgoing | None]]
DigestSentHook = Callable[[UnitOfWork, Sequence[Params], int], Awaitable[None]]


@dataclass(frozen=True)
class Template:
    """A registered template."""

    name: str
    render: Renderer
    on_sent: SentHook | None = None
    digest: DigestRenderer | None = None
    on_digest_sent: DigestSentHook | None = None


_TEMPLATES: dict[str, Template] = {}


def template(
    name: str,
    *,
    on_sent: SentHook | None = None,
    digest: DigestRenderer | None = None,
    on_digest_sent: DigestSentHook | None = None,
) -> Callable[[Renderer], Renderer]:
    """Register the decorated coroutine as the renderer of `name`."""

    def register(render: Renderer) -> Renderer:
        if name in _TEMPLATES and _TEMPLATES[name].render is not render:
            raise ValueError(f"template {name!r} is registered twice")
        _TEMPLATES[name] = Template(name, render, on_sent, digest, on_digest_sent)
        return render

    return register


def get_template(name: str) -> Template | None:
    """The template registered under `name`."""
    return _TEMPLATES.get(name)


def groupable_templates() -> list[str]:
    """Templates that have a digest form."""
    return [name for name, entry in _TEMPLATES.items() if entry.digest is not None]


_UNREACHABLE_HINTS = (
    "chat not found",
    "user is deactivated",
    "bot was blocked",
    "bot was kicked",
    "not enough rights",
    "have no rights",
)


class Verdict(Enum):
    """What a Telegram error means for the row."""

    UNREACHABLE = "unreachable"
    RETRY = "retry"
    DONE = "done"
    GONE = "gone"
    REFUSED = "refused"


def classify(error: TelegramError) -> Verdict:
    """The one reading of Telegram's errors for messages the bot starts."""
    if isinstance(error, Forbidden):
        return Verdict.UNREACHABLE
    if isinstance(error, BadRequest):
        detail = str(error).lower()
        if any(hint in detail for hint in _UNREACHABLE_HINTS):
            return Verdict.UNREACHABLE
        if "not modified" in detail:
            return Verdict.DONE
        if "message to edit not found" in detail or "message can't be edited" in detail:
            return Verdict.GONE
        return Verdict.REFUSED
    if isinstance(error, (RetryAfter, NetworkError)):
        return Verdict.RETRY
    return Verdict.REFUSED


async def deliver_or_fall_back(
    bot: Any, chat_id: int, outgoing: Outgoing, *, background: bool = True
) -> list[int]:
    """`deliver`, and when Telegram refuses the message for good, its fallback if it has one."""
    try:
        return await deliver(bot, chat_id, outgoing, background=background)
    except TelegramError as exc:
        if outgoing.fallback is None or classify(exc) is not Verdict.REFUSED:
            raise
        logger.warning("Telegram refused a message (%s); its fallback is sent", type(exc).__name__)
        return await deliver(bot, chat_id, outgoing.fallback, background=background)


async def deliver(
    bot: Any, chat_id: int, outgoing: Outgoing, *, background: bool = True
) -> list[int]:
    """Send (or edit) one rendered message; returns the ids of the messages posted, the one
    with the buttons last. `background=False` for the direct answer to someone's tap."""
    limit = {"rate_limit_args": BACKGROUND} if background else {}
    if outgoing.edit_message_id is not None:
        await _edit(bot, chat_id, outgoing, limit)
        return [outgoing.edit_message_id]
    pieces = split(outgoing.text)
    posted: list[Message] = []
    if outgoing.attachment is not None:
        if len(pieces) == 1 and fits(outgoing.text, CAPTION_LIMIT):
            return [
                (
                    await _send_file(
                        bot, chat_id, outgoing, outgoing.text, outgoing.keyboard, limit
                    )
                ).message_id
            ]
        posted.append(await _send_file(bot, chat_id, outgoing, None, None, limit))
    for index, piece in enumerate(pieces):
        keyboard = outgoing.keyboard if index == len(pieces) - 1 else None
        posted.append(await bot.send_message(chat_id, piece, reply_markup=keyboard, **limit))
    return [message.message_id for message in posted]


async def _send_file(
    bot: Any,
    chat_id: int,
    outgoing: Outgoing,
    caption: str | None,
    keyboard: Any,
    limit: dict[str, Any],
) -> Message:
    assert outgoing.attachment is not None
    send = bot.send_photo if outgoing.attachment.kind == "photo" else bot.send_document
    message: Message = await send(
        chat_id, outgoing.attachment.file_id, caption=caption, reply_markup=keyboard, **limit
    )
    return message


async def _edit(bot: Any, chat_id: int, outgoing: Outgoing, limit: dict[str, Any]) -> None:
    try:
        await bot.edit_message_text(
            outgoing.text,
            chat_id=chat_id,
            message_id=outgoing.edit_message_id,
            reply_markup=outgoing.keyboard,
            **limit,
        )
    except BadRequest as exc:
        if "there is no text" not in str(exc).lower():
            raise
        await bot.edit_message_caption(
            chat_id=chat_id,
            message_id=outgoing.edit_message_id,
            caption=fit_lines(outgoing.text, CAPTION_LIMIT),
            reply_markup=outgoing.keyboard,
            **limit,
        )
