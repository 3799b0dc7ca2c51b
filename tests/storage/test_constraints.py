"""What the database itself refuses, on both engines: two whole-structure closures of one day,
two active Telegram links of one account; migration 0003 resolves such duplicates first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.migrate import upgrade
from storage.models import Closure, Family, TelegramLink, TelegramUser

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 12, 8)


async def test_the_database_refuses_a_second_whole_structure_closure_on_a_day(
    any_database: Database,
) -> None:
    async with any_database.unit_of_work() as uow:
        uow.session.add(Closure(day=DAY, service_id=None, reason="Pont", created_at=NOW))
        uow.session.add(
            Closure(day=DAY + dt.timedelta(days=1), service_id=None, reason="Pont", created_at=NOW)
        )
        await uow.commit()
    with pytest.raises(IntegrityError):
        async with any_database.unit_of_work() as uow:
            uow.session.add(Closure(day=DAY, service_id=None, reason="Grève", created_at=NOW))
            await uow.commit()


async def test_the_database_refuses_a_second_active_link_of_one_telegram_account(
    any_database: Database,
) -> None:
    async with any_database.unit_of_work() as uow:
        first, second = Family(number="1001", created_at=NOW), Family(number="1002", created_at=NOW)
        uow.session.add_all([first, second, TelegramUser(id=77, first_seen_at=NOW)])
        await uow.session.flush()
        uow.session.add(
            TelegramLink(
                family_id=first.id,
                telegram_user_id=77,
                linked_at=NOW,
                linked_by="invite",
                revoked_at=NOW,
            )
        )
        uow.session.add(
            TelegramLink(
                family_id=second.id, telegram_user_id=77, linked_at=NOW, linked_by="invite"
            )
        )
        await uow.commit()
        ids = (first.id, second.id)
    with pytest.raises(IntegrityError):
        async with any_database.unit_of_work() as uow:
            uow.session.add(
                TelegramLink(
                    family_id=ids[0], telegram_user_id=77, linked_at=NOW, linked_by="contact"
                )
            )
            await uow.commit()


def test_the_migration_keeps_the_oldest_closure_and_the_newest_link(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url.replace("sqlite://", "sqlite+aiosqlite://"), "0002")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO families (id, number, direct_debit, created_at) VALUES (1, '1001', 0, '2026-01-01'), (2, '1002', 0, '2026-01-01')"
            )
        )
        connection.execute(
            text("INSERT INTO telegram_users (id, first_seen_at) VALUES (77, '2026-01-01')")
        )
        connection.execute(
            text(
                "INSERT INTO closures (id, day, service_id, reason, created_at) VALUES"
                " (1, '2026-12-08', NULL, 'newer', '2026-11-02'), (2, '2026-12-08', NULL, 'oldest', '2026-11-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO telegram_links (id, family_id, telegram_user_id, linked_at, linked_by) VALUES"
                " (1, 1, 77, '2026-11-01', 'invite'), (2, 2, 77, '2026-11-05', 'invite')"
            )
        )
    upgrade(url.replace("sqlite://", "sqlite+aiosqlite://"))
    with engine.connect() as connection:
        assert connection.execute(select(Closure.__table__.c.reason)).scalars().all() == ["oldest"]
        links = connection.execute(
            text("SELECT id, revoked_at IS NULL FROM telegram_links ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in links] == [(1, 0), (2, 1)]
