"""The one-process lock (the outbox sender's): held by one holder at a time, on both engines."""

from __future__ import annotations

from sqlalchemy import text

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


async def test_a_lock_whose_connection_died_is_known_lost_and_taken_by_another(
    any_database: Database,
) -> None:
    other_process = Database(any_database.url)
    mine, theirs = AdvisoryLock(any_database, 44), AdvisoryLock(other_process, 44)
    try:
        assert await mine.try_acquire()
        assert await mine.still_held()
        if any_database.backend != "postgresql":
            return  # a file lock lives as long as the process
        async with other_process.engine.connect() as connection:  # e.g. the server restarted
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND objid = 44 AND granted"
                )
            )
        assert not await mine.still_held() and not mine.held
        assert await theirs.try_acquire()
    finally:
        await mine.release()
        await theirs.release()
        await other_process.dispose()
