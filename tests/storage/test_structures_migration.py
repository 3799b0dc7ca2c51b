"""Migration 0008 on a database already in use: its rows become structure 1's, none is lost
(SQLite rebuilds the tables: with foreign keys on, a rebuilt `families` would have deleted
every guardian by cascade), and numbers are then unique within a structure only."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import StructureRecord
from tests.conftest import _drop_postgres, _postgres_database

ROWS_AT_0007 = [
    "INSERT INTO families (id, number, direct_debit, created_at) VALUES (1, '1001', false, '2026-01-01')",
    "INSERT INTO guardians (id, family_id, role, last_name, first_name, sms_consent, email_consent)"
    " VALUES (1, 1, 'responsable', 'DUPONT', 'Jean', false, false)",
    "INSERT INTO bot_state (kind, key, data, updated_at) VALUES ('user_data', '101', '{}', '2026-01-01')",
    "INSERT INTO handled_updates (update_id, handled_at) VALUES (7, '2026-01-01')",
]


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_at_0007(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        await upgrade_async(url, "0007")
        database = Database(url)
        yield database
        await database.dispose()
        return
    database, name = await _postgres_database("0007")
    try:
        yield database
    finally:
        await database.dispose()
        await _drop_postgres(name)


async def test_the_rows_of_a_database_in_use_become_structure_1s_and_none_is_lost(
    database_at_0007: Database,
) -> None:
    async with database_at_0007.engine.begin() as connection:
        for statement in ROWS_AT_0007:
            await connection.execute(text(statement))
    await upgrade_async(database_at_0007.url)
    async with database_at_0007.engine.connect() as connection:
        for table in ("families", "guardians", "bot_state", "handled_updates"):
            owners = (
                (await connection.execute(text(f"SELECT structure_id FROM {table}")))
                .scalars()
                .all()
            )
            assert owners == [1], table
    async with database_at_0007.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001")
        assert family is not None and [g.first_name for g in family.guardians] == ["Jean"]


async def test_a_family_number_is_unique_within_a_structure_only(any_database: Database) -> None:
    async with any_database.registry().transaction() as uow:
        other = await uow.repos.registry.add(
            StructureRecord(
                slug="riaille", name="Riaillé", staff_user_ids="", timezone="Europe/Paris"
            )
        )
    insert = text(
        "INSERT INTO families (number, direct_debit, created_at, structure_id)"
        " VALUES ('1001', false, '2026-01-01', :structure)"
    )
    async with any_database.engine.begin() as connection:
        await connection.execute(insert, {"structure": 1})
        await connection.execute(insert, {"structure": other.id})
    with pytest.raises(IntegrityError):
        async with any_database.engine.begin() as connection:
            await connection.execute(insert, {"structure": other.id})
