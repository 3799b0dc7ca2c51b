"""Repositories on SQLite and PostgreSQL: the same answers on both engines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.domain.model import GuardianRole
from storage.db import Database
from storage.models import Invite, ReminderLog, TelegramLink

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


async def test_demo_family_is_stored_with_guardians_children_and_account(
    any_demo_database: Database,
) -> None:
    async with any_demo_database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        assert family is not None
        assert family.guardian(GuardianRole.RESPONSABLE).first_name == "JEAN"
        assert family.guardian(GuardianRole.CONJOINT).first_name == "JEANNE"
        children = await uow.repos.families.children(family.id)
        assert [c.first_name for c in children] == ["EMMA", "LUCAS"]
        unpaid = await uow.repos.accounts.unpaid_invoices(family.id)
        assert [(u.invoice.number, u.due) for u in unpaid] == [("AL-36", Decimal("120.60"))]
        assert await uow.repos.accounts.balance(family.id) == Decimal("120.60")


async def test_aware_datetimes_round_trip_as_utc(any_demo_database: Database) -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    async with any_demo_database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        uow.repos.invites.add(
            Invite(
                family_id=family.id,
                code_hash="h" * 64,
                created_at=NOW,
                expires_at=dt.datetime(2026, 12, 1, 9, 30, tzinfo=paris),
            )
        )
        await uow.commit()
    async with any_demo_database.unit_of_work() as uow:
        invite = await uow.repos.invites.get_by_hash("h" * 64)
        assert invite.expires_at == dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)
        assert invite.expires_at.tzinfo is not None


async def test_an_invite_is_claimed_once(any_demo_database: Database) -> None:
    async with any_demo_database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        uow.repos.invites.add(
            Invite(
                family_id=family.id,
                code_hash="c" * 64,
                created_at=NOW,
                expires_at=NOW + dt.timedelta(days=1),
            )
        )
        await uow.commit()
    async with any_demo_database.unit_of_work() as uow:
        assert await uow.repos.invites.claim("c" * 64, 111, NOW) == family.id
        await uow.commit()
    async with any_demo_database.unit_of_work() as uow:
        assert await uow.repos.invites.claim("c" * 64, 222, NOW) is None


async def test_an_expired_invite_cannot_be_claimed(any_demo_database: Database) -> None:
    async with any_demo_database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        uow.repos.invites.add(
            Invite(family_id=family.id, code_hash="e" * 64, created_at=NOW, expires_at=NOW)
        )
        await uow.commit()
    async with any_demo_database.unit_of_work() as uow:
        assert await uow.repos.invites.claim("e" * 64, 111, NOW) is None


async def test_reminder_log_refuses_the_same_reminder_twice(any_database: Database) -> None:
    async with any_database.unit_of_work() as uow:
        uow.session.add(ReminderLog(kind="booking", recipient=42, subject="cantine:2026-11-30"))
        await uow.commit()
    with pytest.raises(IntegrityError):
        async with any_database.unit_of_work() as uow:
            uow.session.add(ReminderLog(kind="booking", recipient=42, subject="cantine:2026-11-30"))
            await uow.commit()


async def test_links_are_revoked_and_no_longer_active(any_demo_database: Database) -> None:
    async with any_demo_database.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number("1001001818331")
        await uow.repos.telegram.get_or_create_user(7)
        uow.repos.telegram.add_link(
            TelegramLink(family_id=family.id, telegram_user_id=7, linked_at=NOW, linked_by="invite")
        )
        await uow.commit()
    async with any_demo_database.unit_of_work() as uow:
        assert (await uow.repos.telegram.active_link(7)).family_id == family.id
        assert await uow.repos.telegram.revoke_links_of_user(7, NOW) == 1
        await uow.commit()
    async with any_demo_database.unit_of_work() as uow:
        assert await uow.repos.telegram.active_link(7) is None
        rows = (await uow.session.execute(select(TelegramLink))).scalars().all()
        assert len(rows) == 1 and rows[0].revoked_at == NOW


async def test_bot_state_save_replace_and_remove(any_database: Database) -> None:
    async with any_database.unit_of_work() as uow:
        await uow.repos.bot_state.save("user_data", "5", {"a": 1})
        await uow.commit()
    async with any_database.unit_of_work() as uow:
        await uow.repos.bot_state.save("user_data", "5", {"a": 2})
        await uow.commit()
    async with any_database.unit_of_work() as uow:
        assert await uow.repos.bot_state.load("user_data") == {"5": {"a": 2}}
        await uow.repos.bot_state.remove("user_data", "5")
        await uow.commit()
    async with any_database.unit_of_work() as uow:
        assert await uow.repos.bot_state.load("user_data") == {}
