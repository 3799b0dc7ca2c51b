"""Updates side by side: chats in parallel, each chat's updates in their order, a bound on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Chat, Message, Update, User

from bot.update_processor import ChatOrderedUpdateProcessor, update_key


def message_update(update_id: int, chat_id: int) -> Update:
    user = User(chat_id, "Parent", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE)
    import datetime as dt

    return Update(
        update_id,
        message=Message(update_id, dt.datetime.now(dt.UTC), chat, from_user=user, text="hi"),
    )


async def run_all(
    processor: ChatOrderedUpdateProcessor, jobs: list[tuple[Update, object]]
) -> list[asyncio.Task[None]]:
    await processor.initialize()
    return [
        asyncio.create_task(processor.process_update(update, coroutine))
        for update, coroutine in jobs
    ]  # type: ignore[arg-type]


async def test_a_slow_update_in_one_chat_does_not_delay_another_chat() -> None:
    processor = ChatOrderedUpdateProcessor(4)
    release, done = asyncio.Event(), []

    async def slow() -> None:
        await release.wait()
        done.append("slow")

    async def quick() -> None:
        done.append("quick")

    tasks = await run_all(
        processor, [(message_update(1, 101), slow()), (message_update(2, 202), quick())]
    )
    await asyncio.wait_for(tasks[1], 1)
    assert done == ["quick"]
    release.set()
    await asyncio.gather(*tasks)
    assert done == ["quick", "slow"]


async def test_the_updates_of_one_chat_are_handled_one_after_the_other_in_order() -> None:
    processor = ChatOrderedUpdateProcessor(8)
    log: list[str] = []

    def step(name: str) -> object:
        async def run() -> None:
            log.append(f"{name} start")
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            log.append(f"{name} end")

        return run()

    tasks = await run_all(processor, [(message_update(n, 101), step(str(n))) for n in range(1, 5)])
    await asyncio.gather(*tasks)
    assert log == [f"{n} {edge}" for n in range(1, 5) for edge in ("start", "end")]


async def test_no_more_than_the_bound_run_at_once() -> None:
    processor = ChatOrderedUpdateProcessor(2)
    running, peak, release = 0, 0, asyncio.Event()

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    tasks = await run_all(processor, [(message_update(n, 100 + n), work()) for n in range(5)])
    for _ in range(5):
        await asyncio.sleep(0)
    assert processor.in_flight == 2
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 2
    assert processor.in_flight == 0


def test_updates_are_keyed_by_chat_then_by_user() -> None:
    assert update_key(message_update(1, 42)) == 42
    assert update_key(Update(3)) != update_key(Update(4))


async def test_an_update_whose_state_cannot_be_read_is_dropped_and_the_chat_goes_on() -> None:
    @asynccontextmanager
    async def scope(update: object) -> AsyncIterator[None]:
        if isinstance(update, Update) and update.update_id == 1:
            raise ConnectionError("the database is gone")
        yield

    processor = ChatOrderedUpdateProcessor(4, scope=scope)
    handled: list[int] = []

    async def handle(update_id: int) -> None:
        handled.append(update_id)

    tasks = await run_all(
        processor,
        [(message_update(1, 101), handle(1)), (message_update(2, 101), handle(2))],
    )
    await asyncio.gather(*tasks)  # nothing escapes
    assert handled == [2]
