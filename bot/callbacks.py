"""Callback data of inline buttons: short opaque codes, built and parsed in one place.

callback_data comes from the client and is untrusted: `parse` accepts only known actions with
well-formed arguments and returns None for anything else. Ownership of the objects an
argument names is checked by the service that acts on it, never here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64
SEPARATOR = ":"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,24}$")

# Actions and the number of arguments each takes.
HOME = "home"
MENU = "menu"
LOGOUT = "logout"
LANGUAGE = "lang"
ACTIONS: dict[str, int] = {HOME: 0, MENU: 1, LOGOUT: 1, LANGUAGE: 1}


@dataclass(frozen=True)
class Callback:
    """A parsed button press: an action and its string arguments."""

    action: str
    args: tuple[str, ...] = ()

    def arg(self, index: int) -> str:
        """The argument at `index`."""
        return self.args[index]

    def int_arg(self, index: int) -> int | None:
        """The argument at `index` as a positive integer, or None when it is not one."""
        value = self.args[index]
        return int(value) if value.isdigit() and len(value) <= 12 else None


def build(action: str, *args: object) -> str:
    """Encode a button's data; raises ValueError if it would be malformed or too long."""
    parts = [action, *(str(arg) for arg in args)]
    if action not in ACTIONS or len(args) != ACTIONS[action]:
        raise ValueError(f"unknown action or wrong arity: {action}")
    if not all(_TOKEN.match(part) for part in parts):
        raise ValueError(f"callback part not allowed: {parts}")
    data = SEPARATOR.join(parts)
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def parse(data: str | None) -> Callback | None:
    """Decode a button's data; None when it is not one of ours."""
    if not data or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        return None
    action, *args = data.split(SEPARATOR)
    if ACTIONS.get(action) != len(args) or not all(_TOKEN.match(part) for part in (action, *args)):
        return None
    return Callback(action, tuple(args))


def pattern(action: str) -> re.Pattern[str]:
    """A CallbackQueryHandler pattern matching one action."""
    return re.compile(rf"^{re.escape(action)}(?:{SEPARATOR}|$)")
