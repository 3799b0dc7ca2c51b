"""Helpers of the money tests: day entries, linked accounts and invoicing runs on a demo database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.domain.billing import BillingPeriod
from bot.domain.model import DayStatus
from bot.services.billing import IssueResult, issue_invoices
from bot.structure import Structure
from storage.db import Database
from storage.models import DayEntry, TelegramLink, TelegramUser

PARIS = ZoneInfo("Europe/Paris")
TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)
OCTOBER = BillingPeriod.month(2026, 10)
DUPONT, MARTIN = "1001001818331", "1001001818332"


async def family_and_children(db: Database, number: str) -> tuple[int, dict[str, int]]:
    """A family's id and its children's ids by first name."""
    async with db.unit_of_work() as uow:
        family = await uow.repos.families.get_by_number(number)
        assert family is not None
        return family.id, {c.first_name: c.id for c in await uow.repos.families.children(family.id)}


async def add_days(
    db: Database,
    number: str,
    child: str,
    code: str,
    days: list[int],
    status: DayStatus,
    month: tuple[int, int] = (2026, 10),
) -> None:
    """Write a child's planning days of a service (as the booking feature would)."""
    family_id, children = await family_and_children(db, number)
    async with db.unit_of_work() as uow:
        service = await uow.repos.structure.service_by_code(code)
        for day in days:
            uow.session.add(
                DayEntry(
                    child_id=children[child],
                    service_id=service.id,
                    family_id=family_id,
                    day=dt.date(*month, day),
                    status=status,
                )
            )
        await uow.commit()


async def link_account(
    db: Database, number: str, user_id: int, language: str | None = None
) -> None:
    """Link a Telegram account to a family directly in the database."""
    family_id, _ = await family_and_children(db, number)
    async with db.unit_of_work() as uow:
        uow.session.add(TelegramUser(id=user_id, language=language))
        await uow.session.flush()
        uow.session.add(
            TelegramLink(family_id=family_id, telegram_user_id=user_id, linked_by="invite")
        )
        await uow.commit()


async def issue(
    db: Database, structure: Structure, period: BillingPeriod = OCTOBER, today: dt.date = TODAY
) -> IssueResult:
    """Issue a month's invoices as staff member 7 (the service commits)."""
    return await issue_invoices(
        db, structure, period, today=today, now=NOW, actor_telegram_id=7, actor_kind="staff"
    )
