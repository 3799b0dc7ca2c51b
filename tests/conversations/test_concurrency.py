"""Updates side by side through the real bot and the stand-in, on SQLite and PostgreSQL.

A parent stuck behind a slow action does not hold back another parent; a tap answered too
late (Telegram's "query is too old" after a long queue) still gets its screen; two parents
tapping "Réserver" on the last place at the same instant get one place between them; a double
tap books once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import callbacks
from bot.domain.model import DayStatus
from bot.domain.planning import day_code
from bot.runtime import Runtime
from bot.structure import Structure
from storage.db import Database
from storage.models import DayEntry
from tests.conversations.conftest import DUPONT, MARTIN
from tests.support.botapi import QUERY_TOO_OLD, BotApiStub, FakeUser

THURSDAY = dt.date(2026, 12, 3)  # cantine day of next week: bookable on Monday 23 November


@pytest.fixture
def demo_database(any_demo_database: Database) -> Database:
    """These stories run on each engine."""
    return any_demo_database


@pytest.fixture
def structure(structure: Structure) -> Structure:
    """The demo structure with one place left at the cantine."""
    services = tuple(
        dataclasses.replace(s, rules=dataclasses.replace(s.rules, capacity=1))
        if s.code == "cantine"
        else s
        for s in structure.services
    )
    return dataclasses.replace(structure, services=services)


async def test_a_slow_action_in_one_chat_does_not_delay_another_parents_answer(
    bot: Application, botapi: BotApiStub, link
) -> None:  # type: ignore[no-untyped-def,type-arg]
    jean, sophie = botapi.user(101, "Jean"), botapi.user(201, "Sophie")
    await link(jean, DUPONT)
    await link(sophie, MARTIN)
    release = asyncio.Event()

    async def slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await release.wait()

    bot.add_handler(CommandHandler("lent", slow), group=-100)
    await jean.send_command("/lent")
    await botapi.wait_for_delivery()
    await sophie.send_command("/accueil")
    home = await sophie.next_message()
    assert callbacks.build(callbacks.MENU, "planning") in [
        b["callback_data"] for row in home.buttons for b in row
    ]
    release.set()


async def test_a_tap_answered_too_late_still_gets_its_screen(
    bot: Application, botapi: BotApiStub, link
) -> None:  # type: ignore[no-untyped-def,type-arg]
    jean = botapi.user(101, "Jean")
    await link(jean, DUPONT)
    home = await _home(jean)
    botapi.fail_next("answerCallbackQuery", 400, QUERY_TOO_OLD)
    await jean.tap_data(home, callbacks.build(callbacks.MENU, "planning"))
    planning = await jean.next_message()
    assert "Désolé" not in planning.text
    assert any(
        b["callback_data"].startswith(callbacks.PLANNING_MONTH + ":")
        or b["callback_data"].startswith(callbacks.PLANNING_DAY + ":")
        for row in planning.buttons
        for b in row
    )


async def test_the_last_place_goes_to_one_family_when_both_tap_at_once(
    bot: Application, botapi: BotApiStub, runtime: Runtime, link
) -> None:  # type: ignore[no-untyped-def,type-arg]
    jean, sophie = botapi.user(101, "Jean"), botapi.user(201, "Sophie")
    await link(jean, DUPONT)
    await link(sophie, MARTIN)
    lucas, chloe, cantine = await _ids(runtime)
    jean_home, sophie_home = await _home(jean), await _home(sophie)
    await asyncio.gather(
        jean.tap_data(jean_home, _book(lucas, cantine)),
        sophie.tap_data(sophie_home, _book(chloe, cantine)),
    )
    await asyncio.gather(jean.next_message(), sophie.next_message())
    assert await _booked(runtime, cantine) == 1


async def test_a_double_tap_books_once(
    bot: Application, botapi: BotApiStub, runtime: Runtime, link
) -> None:  # type: ignore[no-untyped-def,type-arg]
    jean = botapi.user(101, "Jean")
    await link(jean, DUPONT)
    lucas, _chloe, cantine = await _ids(runtime)
    home = await _home(jean)
    await jean.tap_data(home, _book(lucas, cantine))
    await jean.tap_data(home, _book(lucas, cantine))
    first, second = await jean.next_message(), await jean.next_message()
    assert "Désolé" not in first.text + second.text
    assert await _booked(runtime, cantine) == 1


async def _home(user: FakeUser):  # type: ignore[no-untyped-def]
    await user.send_command("/accueil")
    return await user.next_message()


def _book(child_id: int, service_id: int) -> str:
    return callbacks.build(callbacks.PLANNING_ACTION, "b", child_id, service_id, day_code(THURSDAY))


async def _ids(runtime: Runtime) -> tuple[int, int, int]:
    async with runtime.database.unit_of_work() as uow:
        dupont = await uow.repos.families.get_by_number(DUPONT)
        martin = await uow.repos.families.get_by_number(MARTIN)
        lucas = next(
            c for c in await uow.repos.families.children(dupont.id) if c.first_name == "LUCAS"
        )
        chloe = next(
            c
            for c in await uow.repos.families.children(martin.id)
            if c.first_name.startswith("CHLO")
        )
        cantine = await uow.repos.structure.service_by_code("cantine")
        return lucas.id, chloe.id, cantine.id


async def _booked(runtime: Runtime, service_id: int) -> int:
    async with runtime.database.unit_of_work() as uow:
        rows = (
            await uow.session.execute(
                select(DayEntry).where(DayEntry.service_id == service_id, DayEntry.day == THURSDAY)
            )
        ).scalars()
        return sum(1 for row in rows if row.status == DayStatus.RESERVED)
