"""A lock held by one process of the deployment.

On PostgreSQL it is a session advisory lock living with a dedicated connection; on SQLite, an
exclusive `flock` on a file beside the database. Either way, when the process dies the
connection or the file closes and the lock is free for another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import Database


class AdvisoryLock:
    """Try to hold `key` for as long as this object keeps its connection."""

    def __init__(self, database: Database, key: int) -> None:
        self.database = database
        self.key = key
        self._connection: Any = None
        self._file: int | None = None
        self._asking = asyncio.Lock()

    @property
    def held(self) -> bool:
        """True while this process holds the lock."""
        return self._connection is not None or self._file is not None

    async def try_acquire(self) -> bool:
        """Take the lock if it is free; True when held."""
        async with self._asking:  # several structures' senders share one lock
            if self.held:
                return True
            if self.database.backend != "postgresql":
                return self._try_file_lock()
            return await self._try_advisory_lock()

    async def _try_advisory_lock(self) -> bool:
        connection = await self.database.engine.connect()
        got = (
            await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        ).scalar()
        await connection.commit()
        if got:
            self._connection = connection
            return True
        await connection.close()
        return False

    async def still_held(self) -> bool:
        """Whether the lock's connection still answers: when PostgreSQL dropped it (restart,
        network), the lock is gone and may be another process's now; False then."""
        if self._connection is None:
            return self._file is not None
        try:
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
            return True
        except Exception:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):  # already broken
                await connection.close()
            return False

    def _try_file_lock(self) -> bool:
        database = make_url(self.database.url).database
        if not database or database == ":memory:":
            self._file = -1  # one connection, one process: nothing to share
            return True
        descriptor = os.open(f"{database}.lock-{self.key:x}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        self._file = descriptor
        return True

    async def release(self) -> None:
        """Give the lock back."""
        if self._file is not None:
            if self._file >= 0:
                os.close(self._file)  # closing the descriptor releases the flock
            self._file = None
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        try:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            await connection.commit()
        finally:
            await connection.close()


def shared_lock(database: Database, key: int) -> AdvisoryLock:
    """The process's one lock of `key`, whichever structure's view asks: every structure's
    sender (or scheduler) of the process holds it together, with one connection."""
    locks: dict[int, AdvisoryLock] = database.shared.setdefault("advisory_locks", {})
    lock = locks.get(key)
    if lock is None:
        lock = locks[key] = AdvisoryLock(database.registry(), key)
    return lock
