"""What every handler and job needs at run time: settings, database, structure, clock.

Kept in `application.bot_data["runtime"]` (bot_data is never persisted) and read with
`get_runtime(context)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.settings import Settings
from bot.structure import Structure
from storage.db import Database
from storage.models import utcnow

RUNTIME_KEY = "runtime"


@dataclass
class Runtime:
    """The application's dependencies."""

    settings: Settings
    database: Database
    structure: Structure
    clock: Callable[[], dt.datetime] = utcnow
    slug: str = "default"
    """The structure's short name (`portail-famille structure list`)."""
    languages: dict[int, tuple[str, float]] = field(default_factory=dict)
    """Each account's /langue choice ("" for none) and when it was read (conversations/language.py)."""
    extensions: dict[str, Any] = field(default_factory=dict)
    """Per-runtime objects a feature keeps between updates (e.g. the admin group's outbox)."""

    def now(self) -> dt.datetime:
        """The current instant (aware UTC); tests replace `clock`."""
        return self.clock()

    def today(self) -> dt.date:
        """Today's date in the structure's time zone."""
        return self.now().astimezone(self.settings.tz).date()


def get_runtime(context: Any) -> Runtime:
    """The runtime from a PTB callback context."""
    runtime: Runtime = context.application.bot_data[RUNTIME_KEY]
    return runtime
