"""Engine and unit of work: one session per update, committed once.

`Database` owns the async engine and hands out `UnitOfWork`s; services receive a unit of
work and reach tables only through its repositories.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.models import DEFAULT_STRUCTURE_ID, STRUCTURE_OPTION
from storage.repositories import Repositories
from storage.scoping import ALL_STRUCTURES, STRUCTURE_INFO

SQLITE_BUSY_SECONDS = 30
"""How long a write transaction waits for another one (of this process or another) to end."""

SQLITE_POOL_SIZE = 40
"""SQLite connections kept open: enough for every update handled at once (MAX_CONCURRENT_UPDATES,
32 by default) and the sender. Beyond the pool, each connection would be opened and closed again
for one transaction, with its PRAGMAs, which costs more than the transaction."""


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, hide_parameters=True, **kwargs
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, issue BEGIN (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across a crash of the bot in WAL mode
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    # 1 MiB of page cache per connection, not 2: with a connection per update in flight, the
    # caches are most of the bot's memory, and the operating system caches the file anyway.
    cursor.execute("PRAGMA cache_size=-1024")
    cursor.close()


READ_ONLY = "pf_read_only"
"""Execution option of a unit of work that only reads (see `Database.unit_of_work`)."""


def _sqlite_begin_immediate(connection: Any) -> None:
    # Writers take the lock at BEGIN: two racing transactions serialise instead of one
    # failing on upgrade from a read lock. A unit of work that only reads begins deferred:
    # in WAL mode it neither waits for writers nor holds them up.
    connection.exec_driver_sql(
        "BEGIN" if connection.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
    )


STATE_ENGINE = "state_engine"
ALL = "all"


class UnitOfWork:
    """One transaction: repositories over one session, committed once by the service."""

    def __init__(
        self,
        session: AsyncSession,
        on_outbox_commit: Callable[[], None] | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self.session = session
        self.read_only = read_only
        self.repos = Repositories(session)
        self.outbox_written = False
        """Set when the transaction wrote outbox rows: committing then wakes the sender."""
        self._on_outbox_commit = on_outbox_commit

    async def __aenter__(self) -> Self:
        if self.read_only:
            await self.session.connection(execution_options={READ_ONLY: True})
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            await self.session.rollback()
        await self.session.close()

    async def commit(self) -> None:
        """Make the work of this unit durable (and wake the sender when it wrote messages)."""
        await self.session.commit()
        if self.outbox_written:
            self.outbox_written = False
            if self._on_outbox_commit is not None:
                self._on_outbox_commit()

    async def rollback(self) -> None:
        """Forget the work of this unit."""
        await self.session.rollback()


class Database:
    """The application's database: an engine and a factory of units of work.

    A `Database` acts for one structure (`structure_id`; the `.env` one by default): its units
    of work see and write only that structure's rows (`storage.scoping`). `for_structure`
    gives the same database acting for another structure, sharing the engine and its pool;
    `registry` one acting for none, which may only read and write the `structures` table.
    """

    def __init__(
        self, url: str, *, structure_id: int | None = DEFAULT_STRUCTURE_ID, **engine_kwargs: Any
    ) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self.structure_id = structure_id
        self._sessions = _sessions_for(self.engine, structure_id)
        self._outbox_listeners: list[Callable[[], None]] = []
        self._views: dict[int | str | None, Database] = {structure_id: self}
        self.shared: dict[str, Any] = {}
        """What every structure's view shares: the state engine (storage/persistence.py), the
        advisory locks (storage/locks.py), the scheduler lease, the outbox watch."""

    def for_structure(self, structure_id: int | None) -> Database:
        """This database acting for another structure (the same engine; made once each)."""
        view = self._views.get(structure_id)
        if view is None:
            view = self._views[structure_id] = self._view(structure_id)
        return view

    def _view(self, structure_id: int | None) -> Database:
        view = object.__new__(Database)
        view.url = self.url
        view.engine = self.engine
        view.structure_id = structure_id
        view._sessions = _sessions_for(self.engine, structure_id)
        view._outbox_listeners = []
        view._views = self._views
        view.shared = self.shared
        return view

    def state_sessions(self, connections: int) -> async_sessionmaker[AsyncSession]:
        """Sessions of this structure on the engine of the dialogue state's locks (PostgreSQL:
        storage/persistence.py), one engine for every structure, of up to `connections`."""
        engine: AsyncEngine | None = self.shared.get(STATE_ENGINE)
        if engine is None:
            base = min(connections, 4)
            engine = self.shared[STATE_ENGINE] = create_engine(
                self.url, pool_size=base, max_overflow=max(connections - base, 0)
            )
        return _sessions_for(engine, self.structure_id)

    async def close_state_connections(self) -> None:
        """Close the state locks' connections (the engine stays, shared: it opens them again
        when a structure's bot needs one)."""
        engine: AsyncEngine | None = self.shared.get(STATE_ENGINE)
        if engine is not None:
            await engine.dispose()

    def registry(self) -> Database:
        """This database acting for no structure: the `structures` table only."""
        return self.for_structure(None)

    def all_structures(self) -> Database:
        """This database reading every structure's rows (never writing them): for what the
        process watches across structures (the outbox's due rows, the operations' gauges)."""
        view = self._views.get(ALL)
        if view is None:
            view = self._views[ALL] = self._view(None)
            view._sessions = async_sessionmaker(
                self.engine,
                expire_on_commit=False,
                info={STRUCTURE_INFO: None, ALL_STRUCTURES: True},
            )
        return view

    @property
    def backend(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work; use as `async with db.unit_of_work() as uow:`.

        `read_only=True` for one that only reads: on SQLite it then takes no write lock, so
        screens shown at the same time do not wait for each other. It must not write.
        """
        return UnitOfWork(self._sessions(), self._outbox_committed, read_only=read_only)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work committed when the block ends normally, rolled back otherwise.

        The way a service owns its transaction: `async with db.transaction() as uow: ...`.
        """
        async with self.unit_of_work() as uow:
            yield uow
            await uow.commit()

    def on_outbox_commit(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after each commit that wrote outbox rows (the sender's wake-up).

        Returns the function that stops calling it.
        """
        self._outbox_listeners.append(listener)
        return lambda: self._outbox_listeners.remove(listener)

    def _outbox_committed(self) -> None:
        for listener in self._outbox_listeners:
            listener()

    async def dispose(self) -> None:
        """Close every pooled connection (of every structure's view: they share the engines).

        The engines stay usable: a connection asked for later opens again."""
        await self.close_state_connections()
        await self.engine.dispose()


def _sessions_for(
    engine: AsyncEngine, structure_id: int | None
) -> async_sessionmaker[AsyncSession]:
    """Sessions acting for `structure_id` (None: for no structure), see `storage.scoping`."""
    bind = (
        engine
        if structure_id is None
        else engine.execution_options(**{STRUCTURE_OPTION: structure_id})
    )
    return async_sessionmaker(bind, expire_on_commit=False, info={STRUCTURE_INFO: structure_id})
