"""Logging configuration: concise, and never the bot token or personal data.

Two formats (LOG_FORMAT): `text`, one readable line per record, and `json`, one JSON object
per line for a log collector: `time` (ISO 8601, UTC), `level`, `logger`, `message`, then the
structured extras a call passed (`logger.info(..., extra={...})`), and `structure`, the
short name of the structure whose bot logged it when the process serves several (text: after
the level, in brackets). The messages are the same
in both: the code logs ids, counts and type names, never a name, a phone number or an IBAN.
An exception attached to a record is written without its message, which may quote data: in
JSON as its type and where it happened (as `bot.errors.describe_error`), in text as its
traceback's frames and its type.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(structure_tag)s%(name)s: %(message)s"
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName", "structure_tag"}
CURRENT_STRUCTURE: ContextVar[str] = ContextVar("current_structure", default="")
"""The structure whose bot is at work in this task (and the tasks it starts)."""


@contextmanager
def acting_for(slug: str) -> Iterator[None]:
    """Log what runs here, and every task started here, as the structure `slug`'s."""
    token = CURRENT_STRUCTURE.set(slug)
    try:
        yield
    finally:
        CURRENT_STRUCTURE.reset(token)


def _note_structure(record: logging.LogRecord) -> None:
    """Put the current structure on the record (`structure`, and its text form)."""
    slug = getattr(record, "structure", None) or CURRENT_STRUCTURE.get()
    if slug:
        record.structure = slug
    record.structure_tag = f"[{slug}] " if slug else ""


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        _note_structure(record)
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key not in entry and not key.startswith("_"):
                entry[key] = _plain(value)
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = _exception_without_message(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=False, default=str)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def _exception_without_message(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    where = " <- ".join(
        f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}:{frame.name}"
        for frame in reversed(frames[-6:])
    )
    return f"{type(error).__name__} at {where or '?'}"


class TextFormatter(logging.Formatter):
    """The readable line; an exception's traceback keeps its frames but not its message."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a line, with the structure it concerns when there is one."""
        _note_structure(record)
        return super().format(record)

    def formatException(self, ei: Any) -> str:
        """The frames and the exception's type, without the message (it may quote data)."""
        error = ei[1]
        if error is None:
            return super().formatException(ei)
        frames = "".join(traceback.format_tb(error.__traceback__))
        return (
            f"Traceback (most recent call last):\n{frames}{type(error).__name__} (message left out)"
        )


def build_formatter(log_format: str = "text") -> logging.Formatter:
    """The formatter of LOG_FORMAT."""
    if log_format == "json":
        return JsonFormatter()
    return TextFormatter(TEXT_FORMAT)


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Log to stderr; silence the HTTP client, whose request lines contain the bot token."""
    handler = logging.StreamHandler()
    handler.setFormatter(build_formatter(log_format))
    logging.basicConfig(level=level, handlers=[handler])
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # PDF font subsetting, glyph by glyph
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # webhook mode: no request lines
