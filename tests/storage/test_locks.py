"""The one-process lock (the outbox sender's): held by one holder at a time, on both engines."""

from __future__ import annotations

from storage.db import Database
from storage.locks import AdvisoryLock


async def test_one_holder_at_a_time_and_free_again_once_released(any_database: Database) -> None:
    other_process = Database(any_database.url)
    first, second, other_key = (
        AdvisoryLock(any_database, 42),
        AdvisoryLock(other_process, 42),
        AdvisoryLock(other_process, 43),
    )
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert await other_key.try_acquire()  # another key is another lock
        await first.release()
        assert await second.try_acquire()
    finally:
        for lock in (first, second, other_key):
            await lock.release()
        await other_process.dispose()
