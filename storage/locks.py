"""A lock held by one process of the deployment: a PostgreSQL session advisory lock.

On SQLite there is one process by construction (the embedded file), so the lock is always
granted. On PostgreSQL the lock lives with a dedicated connection: when the process dies, the
connection closes and the lock is free for another process.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from storage.db import Database


class AdvisoryLock:
    """Try to hold `key` for as long as this object keeps its connection."""

    def __init__(self, database: Database, key: int) -> None:
        self.database = database
        self.key = key
        self._connection: Any = None

    @property
    def held(self) -> bool:
        """True while this process holds the lock."""
        return self._connection is not None or self.database.backend != "postgresql"

    async def try_acquire(self) -> bool:
        """Take the lock if it is free; True when held."""
        if self.held:
            return True
        connection = await self.database.engine.connect()
        got = (await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})).scalar()
        await connection.commit()
        if got:
            self._connection = connection
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        """Give the lock back."""
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        try:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            await connection.commit()
        finally:
            await connection.close()
