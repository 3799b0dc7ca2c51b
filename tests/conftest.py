"""Shared fixtures: migrated databases (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set),
the demo structure, and a runtime loaded with the demo families.

PostgreSQL tests are skipped on a developer machine without TEST_POSTGRES_URL, but fail in CI
(CI=true), where `.ci/run` starts a server.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.services.demo import load_demo
from bot.services.structure_sync import sync_structure
from bot.settings import DEMO_STRUCTURE_FILE
from bot.structure import Structure, load_structure
from storage.db import Database
from storage.migrate import upgrade, upgrade_async

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")


@pytest.fixture(scope="session")
def structure() -> Structure:
    """The demo structure shipped in the repository."""
    return load_structure(DEMO_STRUCTURE_FILE)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _sqlite_database(tmp_path: Path, template: Path) -> Database:
    path = tmp_path / "portail.db"
    shutil.copy(template, path)
    return Database(f"sqlite+aiosqlite:///{path}")


async def _postgres_database(revision: str = "head") -> tuple[Database, str]:
    import asyncpg

    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("TEST_POSTGRES_URL must be set in CI (see .ci/run)")
        pytest.skip("TEST_POSTGRES_URL not set: PostgreSQL tests skipped")
    name = f"pf_test_{uuid.uuid4().hex[:12]}"
    admin = make_url(POSTGRES_URL).set(drivername="postgresql")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    await upgrade_async(url, revision)
    return Database(url), name


async def _drop_postgres(name: str) -> None:
    import asyncpg

    admin = make_url(POSTGRES_URL).set(drivername="postgresql")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
async def database(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    """A migrated, empty SQLite database."""
    db = await _sqlite_database(tmp_path, sqlite_template)
    yield db
    await db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_database(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Database]:
    """A migrated, empty database on each engine in turn."""
    if request.param == "sqlite":
        db = await _sqlite_database(tmp_path, sqlite_template)
        yield db
        await db.dispose()
        return
    db, name = await _postgres_database()
    try:
        yield db
    finally:
        await db.dispose()
        await _drop_postgres(name)


TODAY = dt.date(2026, 11, 23)


async def seed_demo(db: Database, structure: Structure, today: dt.date = TODAY) -> None:
    """Mirror the structure and load the demo families into a database."""
    async with db.unit_of_work() as uow:
        await sync_structure(uow, structure)
        await load_demo(uow, structure, today)
        await uow.commit()


@pytest.fixture
async def demo_database(database: Database, structure: Structure) -> Database:
    """An SQLite database holding the demo structure and families."""
    await seed_demo(database, structure)
    return database


@pytest.fixture
async def any_demo_database(any_database: Database, structure: Structure) -> Database:
    """The demo on each engine in turn."""
    await seed_demo(any_database, structure)
    return any_database
