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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup

from bot.runtime import Runtime
from storage.db import UnitOfWork

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
