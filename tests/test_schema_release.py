"""Migrations are a release step: `run` refuses a database whose schema is behind and names
`portail-famille db upgrade`, which brings it to head; a brand-new SQLite file is created by
`run` itself (the newcomer's `make run`), a new PostgreSQL database is not."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot import cli
from bot.settings import load_settings
from storage.db import create_engine
from storage.migrate import alembic_config, head_revision, schema_status, upgrade

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")


def previous_revision() -> str:
    """The revision just before head: a database migrated by the previous release."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    down = script.get_revision(head_revision()).down_revision
    assert isinstance(down, str)
    return down


async def _admin(sql: str) -> None:
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with nothing in it, on each engine in turn."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'pf.db'}"
        return
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("TEST_POSTGRES_URL must be set in CI (see .ci/run)")
        pytest.skip("TEST_POSTGRES_URL not set: PostgreSQL tests skipped")
    name = f"pf_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env of the developer's; a token, so that `run` goes as far as the database."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_USERNAME", "ADMIN_CHAT_ID", "STAFF_USER_IDS", "STRUCTURE_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)


def test_run_on_a_database_behind_head_exits_2_naming_db_upgrade(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(empty_database, previous_revision())
    monkeypatch.setenv("DATABASE_URL", empty_database)
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert "portail-famille db upgrade" in err and "behind" in err
    assert asyncio.run(schema_status(empty_database)).current == previous_revision()  # untouched


def test_db_upgrade_brings_the_schema_to_head_and_run_may_start(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(empty_database, previous_revision())
    monkeypatch.setenv("DATABASE_URL", empty_database)
    assert cli.main(["db", "upgrade"]) == 0
    assert head_revision() in capsys.readouterr().out
    assert asyncio.run(schema_status(empty_database)).up_to_date
    settings = load_settings(_env_file=None, database_url=empty_database)
    assert asyncio.run(cli.check_schema(settings)) is None


def test_a_new_sqlite_file_is_created_by_run_but_a_new_postgresql_database_is_refused(
    empty_database: str,
) -> None:
    settings = load_settings(_env_file=None, database_url=empty_database)
    refusal = asyncio.run(cli.check_schema(settings))
    status = asyncio.run(schema_status(empty_database))
    if empty_database.startswith("sqlite"):
        assert refusal is None and status.up_to_date
    else:
        assert refusal is not None and "portail-famille db upgrade" in refusal
        assert status.new


def test_a_database_migrated_by_a_newer_version_is_refused(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(empty_database)
    asyncio.run(_set_revision(empty_database, "9999"))  # a later release's migration
    monkeypatch.setenv("DATABASE_URL", empty_database)
    assert cli.main(["run"]) == 2
    assert "newer" in capsys.readouterr().err


async def _set_revision(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :rev"), {"rev": revision}
            )
    finally:
        await engine.dispose()
