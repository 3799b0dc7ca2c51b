"""Schema migrations with Alembic, run from code (`portail-famille db upgrade`).

The same migration scripts run on SQLite and PostgreSQL. Migrating is a release step
(`portail-famille db upgrade`, before the new version starts); `schema_status` tells `run`
whether the database is at the version of the code.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.db import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration pointing at our scripts and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` (blocking; call from a thread inside an event loop)."""
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """`upgrade` from async code: Alembic's env runs its own event loop, so use a thread."""
    await asyncio.to_thread(upgrade, database_url, revision)


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database's schema stands against the migrations of this code."""

    current: str | None
    """The database's Alembic revision; None for a database never migrated (a new one)."""
    head: str
    known: bool
    """Whether `current` is one of this code's revisions (False: a newer version migrated it)."""

    @property
    def new(self) -> bool:
        """Never migrated: no schema at all."""
        return self.current is None

    @property
    def up_to_date(self) -> bool:
        """At the head revision of this code."""
        return self.current == self.head

    @property
    def behind(self) -> bool:
        """Migrated by an older version: `db upgrade` brings it to head."""
        return self.current is not None and self.known and not self.up_to_date


def head_revision() -> str:
    """The latest revision of the migration scripts."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no migration script"
    return head


async def schema_status(database_url: str) -> SchemaStatus:
    """Read the database's revision (connecting once, creating nothing)."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()
    known = current is None or any(rev.revision == current for rev in script.walk_revisions())
    return SchemaStatus(current=current, head=head_revision(), known=known)
