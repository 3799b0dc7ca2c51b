"""The bot's one rate limiter: Telegram's limits, answers before broadcasts, 429s waited out.

Every request of the bot goes through `TelegramRateLimiter` (python-telegram-bot calls it for
each Bot API call). Telegram lets a bot send about 30 messages a second in all and about 20 a
minute in one group; past that it answers 429 with a delay to respect.

- Answers to what a person just did (the default) are never held back by the overall rate: a
  parent waiting for a screen comes first. They count in the overall window all the same, so
  that messages the bot starts on its own leave room for them.
- Messages the bot starts on its own (the outbox sender passes `rate_limit_args=BACKGROUND`)
  leave one at a time, evenly spaced under `overall_per_second`, and only while the last
  second's messages, answers included, stay under it.
- In a group, at most `group_per_minute` messages go out in any minute; background messages
  keep `group_reserve` of them free for the staff's own commands. The sender asks
  `group_free` to decide whether request cards go one by one or as one summary.
- A 429 pauses every request for the delay Telegram gives, then the request is tried again
  (up to `max_retries` times); a 429 in a group pauses that group's messages only, since the
  limit it reports is the group's.
- A group's wait (its minute is full) is waited by its own messages alone: answers and
  reminders in other chats go on meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot import metrics

logger = logging.getLogger(__name__)

BACKGROUND = "background"
"""`rate_limit_args` of a message the bot starts on its own."""

_UNCOUNTED = {"sendchataction"}


def counts_as_message(endpoint: str) -> bool:
    """True for the calls Telegram counts against its message limits (send, edit, copy…)."""
    name = endpoint.lower()
    return name not in _UNCOUNTED and name.startswith(("send", "edit", "copy", "forward"))


def retry_after_seconds(error: RetryAfter) -> float:
    """The delay of a 429, in seconds."""
    value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class _Window:
    """Instants of the messages sent in the last `period` seconds."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.sent: deque[float] = deque()

    def count(self, now: float) -> int:
        while self.sent and self.sent[0] <= now - self.period:
            self.sent.popleft()
        return len(self.sent)

    def wait_for(self, now: float, limit: int) -> float:
        """Seconds until fewer than `limit` messages are in the window (0: now)."""
        if self.count(now) < limit:
            return 0.0
        return max(0.0, self.sent[len(self.sent) - limit] + self.period - now)


class TelegramRateLimiter(BaseRateLimiter[str]):
    """Telegram's limits for the whole bot (see the module's docstring)."""

    def __init__(
        self,
        *,
        overall_per_second: float = 30,
        group_per_minute: int = 20,
        group_reserve: int = 6,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall_per_second = overall_per_second
        self.group_per_minute = group_per_minute
        self.group_reserve = min(group_reserve, group_per_minute - 1)
        self.max_retries = max_retries
        self._clock = clock
        self._overall = _Window(1.0)
        self._groups: dict[int, _Window] = {}
        self._next_background = 0.0
        self._background_lock: asyncio.Lock | None = None
        self._paused_until = 0.0
        self._chat_paused_until: dict[int, float] = {}
        self.retries_after_429 = 0
        """How many 429s were waited out (for the figures of the benchmarks)."""

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    def group_free(self, chat_id: int, *, background: bool = True) -> int:
        """How many messages may be posted in the group now (background: leaving the reserve)."""
        used = self._group(chat_id).count(self._clock())
        limit = self.group_per_minute - (self.group_reserve if background else 0)
        return max(0, limit - used)

    def group_wait(self, chat_id: int, *, background: bool = True) -> float:
        """Seconds until one more message may be posted in the group."""
        limit = self.group_per_minute - (self.group_reserve if background else 0)
        return self._group(chat_id).wait_for(self._clock(), limit)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for the limits, make the request, and wait out a 429 before trying again."""
        background = rate_limit_args == BACKGROUND
        chat_id = _chat_id(data) if counts_as_message(endpoint) else None
        for attempt in range(self.max_retries + 1):
            await self._wait_for_pause(chat_id)
            if chat_id is not None:
                await self._take_slot(chat_id, background)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                delay = retry_after_seconds(exc)
                self.retries_after_429 += 1
                metrics.TOO_MANY_REQUESTS.inc()
                if chat_id is not None and chat_id < 0:
                    # A group's 429 is that group's limit: only its messages wait, the other chats go on.
                    self._chat_paused_until[chat_id] = max(
                        self._chat_paused_until.get(chat_id, 0.0), self._clock() + delay
                    )
                    logger.warning(
                        "Telegram asked to wait %.0fs (429) in a group; its messages paused", delay
                    )
                else:
                    self._paused_until = max(self._paused_until, self._clock() + delay)
                    logger.warning("Telegram asked to wait %.0fs (429); requests paused", delay)
                if attempt == self.max_retries:
                    raise
            else:
                if counts_as_message(endpoint):
                    metrics.MESSAGES_SENT.labels("outbox" if background else "answer").inc()
                return result
        raise AssertionError("unreachable")

    async def _wait_for_pause(self, chat_id: int | None = None) -> None:
        while (
            delay := max(
                self._paused_until,
                self._chat_paused_until.get(chat_id, 0.0) if chat_id is not None else 0.0,
            )
            - self._clock()
        ) > 0:
            await asyncio.sleep(delay)

    async def _take_slot(self, chat_id: int, background: bool) -> None:
        if background:
            if chat_id < 0:  # wait for the group's share without holding back other chats' turns
                while (delay := self.group_wait(chat_id)) > 0:
                    await asyncio.sleep(delay)
            async with self._lock():
                await self._wait_background_turn(chat_id)
                self._count(chat_id)
            return
        if chat_id < 0:
            while (delay := self.group_wait(chat_id, background=False)) > 0:
                await asyncio.sleep(delay)
        self._count(chat_id)

    async def _wait_background_turn(self, chat_id: int) -> None:
        """Evenly spaced, under the overall rate counting answers too, within the group's share."""
        while True:
            now = self._clock()
            waits = [
                self._next_background - now,
                self._overall.wait_for(now, max(1, int(self.overall_per_second))),
                self.group_wait(chat_id) if chat_id < 0 else 0.0,
                self._paused_until - now,
            ]
            delay = max(waits)
            if delay <= 0:
                self._next_background = now + 1.0 / self.overall_per_second
                return
            await asyncio.sleep(delay)

    def _count(self, chat_id: int) -> None:
        now = self._clock()
        self._overall.count(now)
        self._overall.sent.append(now)
        if chat_id < 0:
            window = self._group(chat_id)
            window.count(now)
            window.sent.append(now)

    def _group(self, chat_id: int) -> _Window:
        window = self._groups.get(chat_id)
        if window is None:
            window = self._groups[chat_id] = _Window(60.0)
        return window

    def _lock(self) -> asyncio.Lock:
        if self._background_lock is None:
            self._background_lock = asyncio.Lock()
        return self._background_lock


def _chat_id(data: dict[str, Any]) -> int | None:
    value = data.get("chat_id")
    with contextlib.suppress(TypeError, ValueError):
        return int(value) if value is not None else None
    return None
