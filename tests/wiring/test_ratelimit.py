"""The one rate limiter: answers first, broadcasts spaced, the group's minute kept, 429 waited out.

A manual clock advanced by the limiter's own sleeps makes every case exact and instant.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot import ratelimit
from bot.ratelimit import BACKGROUND, TelegramRateLimiter

GROUP = -1001
PARENT = 501


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    clock = ManualClock()

    async def sleep(seconds: float) -> None:
        clock.now += max(seconds, 0.0)

    monkeypatch.setattr(ratelimit.asyncio, "sleep", sleep)
    return clock


def limiter(clock: ManualClock, **kwargs: Any) -> TelegramRateLimiter:
    return TelegramRateLimiter(clock=clock, **kwargs)


async def send(
    limiter: TelegramRateLimiter,
    clock: ManualClock,
    chat_id: int,
    *,
    background: bool = False,
    endpoint: str = "sendMessage",
) -> float:
    """Make one request; return the instant it reached Telegram."""
    reached: list[float] = []

    async def callback() -> bool:
        reached.append(clock.now)
        return True

    await limiter.process_request(
        callback, (), {}, endpoint, {"chat_id": chat_id}, BACKGROUND if background else None
    )
    return reached[0]


async def test_messages_the_bot_starts_leave_evenly_spaced_under_the_rate(
    clock: ManualClock,
) -> None:
    rl = limiter(clock, overall_per_second=10)
    instants = [await send(rl, clock, PARENT + n, background=True) for n in range(5)]
    assert instants == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


async def test_answers_to_parents_are_never_held_back_by_the_overall_rate(
    clock: ManualClock,
) -> None:
    rl = limiter(clock, overall_per_second=10)
    instants = [await send(rl, clock, PARENT + n) for n in range(50)]
    assert set(instants) == {0.0}


async def test_a_broadcast_waits_while_answers_fill_the_last_second(clock: ManualClock) -> None:
    rl = limiter(clock, overall_per_second=30)
    for n in range(30):
        await send(rl, clock, PARENT + n)
    assert await send(rl, clock, 999, background=True) >= 1.0


async def test_the_group_keeps_a_reserve_for_the_staffs_own_commands(clock: ManualClock) -> None:
    rl = limiter(clock, group_per_minute=20, group_reserve=6)
    for _ in range(14):
        assert await send(rl, clock, GROUP, background=True) < 1.0
    assert rl.group_free(GROUP) == 0
    assert rl.group_free(GROUP, background=False) == 6
    assert await send(rl, clock, GROUP) < 1.0  # a staff member's answer uses the reserve
    assert await send(rl, clock, GROUP, background=True) >= 60.0  # the next card waits a minute


async def test_answers_in_the_group_wait_rather_than_exceed_twenty_a_minute(
    clock: ManualClock,
) -> None:
    rl = limiter(clock, group_per_minute=20)
    instants = [await send(rl, clock, GROUP) for _ in range(21)]
    assert max(instants[:20]) == 0.0
    assert instants[20] >= 60.0


async def test_calls_that_are_not_messages_are_not_counted(clock: ManualClock) -> None:
    rl = limiter(clock, group_per_minute=20)
    for _ in range(40):
        await send(rl, clock, GROUP, endpoint="answerCallbackQuery")
        await send(rl, clock, GROUP, endpoint="sendChatAction")
    assert rl.group_free(GROUP, background=False) == 20


async def test_a_429_pauses_requests_for_the_given_delay_then_tries_again(
    clock: ManualClock,
) -> None:
    rl = limiter(clock, max_retries=2)
    attempts: list[float] = []

    async def callback() -> bool:
        attempts.append(clock.now)
        if len(attempts) == 1:
            raise RetryAfter(3)
        return True

    assert (
        await rl.process_request(callback, (), {}, "sendMessage", {"chat_id": PARENT}, None) is True
    )
    assert attempts == [0.0, 3.0]
    assert rl.retries_after_429 == 1
    assert await send(rl, clock, PARENT + 1) == 3.0


async def test_a_429_past_the_retries_is_raised(clock: ManualClock) -> None:
    rl = limiter(clock, max_retries=1)

    async def callback() -> bool:
        raise RetryAfter(1)

    with pytest.raises(RetryAfter):
        await rl.process_request(callback, (), {}, "sendMessage", {"chat_id": PARENT}, None)


async def test_a_429_in_the_group_pauses_the_group_only_not_the_parents(clock: ManualClock) -> None:
    rl = limiter(clock, max_retries=0)

    async def flooded() -> bool:
        raise RetryAfter(30)

    with pytest.raises(RetryAfter):
        await rl.process_request(flooded, (), {}, "sendMessage", {"chat_id": GROUP}, None)
    assert await send(rl, clock, PARENT) == 0.0  # a parent's answer goes at once
    assert await send(rl, clock, PARENT + 1, background=True) < 1.0  # and reminders go on
    assert await send(rl, clock, GROUP) >= 30.0  # the group waits what Telegram said


async def test_24_quick_staff_commands_in_the_group_are_all_answered_none_dropped(
    clock: ManualClock,
) -> None:
    rl = limiter(clock, group_per_minute=20, group_reserve=6)
    for _ in range(3):  # a few cards already posted in the minute
        await send(rl, clock, GROUP, background=True)
    instants = [await send(rl, clock, GROUP) for _ in range(24)]
    assert len(instants) == 24
    assert (
        sum(1 for t in instants if t < 60.0) == 17 and min(instants[17:]) >= 60.0
    )  # never over 20 a minute


class SteppedClock(ManualClock):
    """A clock the test moves; sleepers wake when it has moved far enough."""


@pytest.fixture
def stepped(monkeypatch: pytest.MonkeyPatch) -> SteppedClock:
    clock = SteppedClock()
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        target = clock.now + max(seconds, 0.0)
        while clock.now < target:
            await real_sleep(0)

    monkeypatch.setattr(ratelimit.asyncio, "sleep", sleep)
    return clock


async def test_a_card_waiting_for_the_groups_minute_does_not_hold_back_reminders_to_parents(
    stepped: SteppedClock,
) -> None:
    rl = TelegramRateLimiter(clock=stepped, group_per_minute=20, group_reserve=6)
    for n in range(14):  # the background share of the group's minute is used up (spaced, from t=0)
        stepped.now = n * 0.1
        await send(rl, stepped, GROUP, background=True)
    card = asyncio.create_task(send(rl, stepped, GROUP, background=True))
    reminder = asyncio.create_task(send(rl, stepped, PARENT, background=True))
    stepped.now = (
        2.0  # later: the reminder's turn has come, the card's has not (the group's minute)
    )
    reached = await asyncio.wait_for(reminder, timeout=2.0)
    assert reached == 2.0 and not card.done()
    stepped.now = 61.0
    assert await asyncio.wait_for(card, timeout=2.0) >= 60.0
