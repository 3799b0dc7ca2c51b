"""Updates side by side: different chats are handled concurrently, one chat's in order.

python-telegram-bot hands every update to the application's update processor. This one keys
each update by its chat (or, without a chat, its user): updates with the same key wait for
each other, in arrival order, so a dialogue never sees its taps out of order and the
conversation state of a chat is never written by two updates at once; updates of different
keys run together, at most `max_concurrent` at a time. A slow action in one chat does not
delay another chat's answer. Once an update's turn came, it is handled inside `scope(update)`:
the persistence there reads the chat's and user's state before and writes it after
(storage/persistence.py), so that several workers can serve the same bot.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot import metrics

logger = logging.getLogger(__name__)

QUEUED_LIMIT = 100_000
"""How many updates may wait in memory (python-telegram-bot's own bound)."""


UpdateScope = Callable[[object], AbstractAsyncContextManager[None]]
"""Something done around one update: given the update, an async context manager."""


@asynccontextmanager
async def _no_scope(update: object) -> AsyncIterator[None]:
    yield


def update_key(update: object) -> int | str:
    """What orders updates: the chat, else the user, else nothing in common."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return f"user:{update.effective_user.id}"
    return f"update:{id(update)}"


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, sequential within one (see the module's docstring)."""

    def __init__(self, max_concurrent: int, scope: UpdateScope | None = None) -> None:
        super().__init__(QUEUED_LIMIT)
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.max_concurrent = max_concurrent
        self.scope: UpdateScope = scope or _no_scope
        """Entered around each update once its turn came (the persistence's load and write)."""
        self._running: asyncio.Semaphore | None = None
        self._chains: dict[int | str, asyncio.Lock] = {}
        self._waiting: dict[int | str, int] = {}

    async def initialize(self) -> None:
        """Create the semaphore on the running loop."""
        self._running = asyncio.Semaphore(self.max_concurrent)

    async def shutdown(self) -> None:
        """Nothing to free: the application waits for the updates in flight."""

    @property
    def in_flight(self) -> int:
        """Updates being handled now."""
        return 0 if self._running is None else self.max_concurrent - self._running._value

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the earlier updates of the same chat, then for a free slot, then handle it."""
        if self._running is None:
            await self.initialize()
        assert self._running is not None
        key = update_key(update)
        chain = self._chains.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        kind = metrics.update_kind(update)
        started = time.perf_counter()
        metrics.UPDATES_IN_FLIGHT.inc()
        try:
            async with chain, self._running, self.scope(update):
                await coroutine
        except Exception as exc:  # the scope failed (the database, before the handlers ran)
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never started: no "never awaited" warning
            logger.error("an update was not handled: %s", type(exc).__name__)
        finally:
            metrics.UPDATES_IN_FLIGHT.dec()
            metrics.UPDATES.labels(kind).inc()
            metrics.UPDATE_SECONDS.labels(kind).observe(time.perf_counter() - started)
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                del self._chains[key]
