"""Fixtures running the real Application over HTTP against the local Bot API stand-in."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application
from bot.runtime import Runtime
from bot.services import linking
from bot.settings import load_settings
from bot.structure import Structure
from storage.db import Database
from tests.support.botapi import DEFAULT_TOKEN, BotApiStub, FakeUser

DUPONT = "1001001818331"
MARTIN = "1001001818332"


@dataclass
class Clock:
    """A settable clock for the runtime."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def botapi() -> AsyncIterator[BotApiStub]:
    """The local Bot API server."""
    async with BotApiStub(token=DEFAULT_TOKEN) as stub:
        yield stub


@pytest.fixture
def clock() -> Clock:
    """Monday 23 November 2026, 09:00 in Paris."""
    return Clock(dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC))


@pytest.fixture
def runtime(
    demo_database: Database, structure: Structure, botapi: BotApiStub, clock: Clock
) -> Runtime:
    """The runtime of the bot under test, on the demo database."""
    settings = load_settings(
        _env_file=None,
        telegram_bot_token=DEFAULT_TOKEN,
        telegram_api_base_url=botapi.base_url,
        telegram_api_base_file_url=botapi.base_file_url,
        database_url=demo_database.url,
        reminder_interval_seconds=0,  # reminder tests run the job themselves
    )
    return Runtime(settings=settings, database=demo_database, structure=structure, clock=clock)


async def start_application(runtime: Runtime) -> Application:  # type: ignore[type-arg]
    """Build, initialise and start polling, as `portail-famille run` does."""
    application = build_application(runtime, persistence_interval=0.1)
    await application.initialize()
    if application.post_init is not None:  # run_polling calls it after initialize()
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES
    )
    await application.start()
    return application


async def stop_application(application: Application) -> None:  # type: ignore[type-arg]
    """Stop as on SIGTERM: pending persistence is written."""
    assert application.updater is not None
    if application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()


@pytest.fixture
async def bot(runtime: Runtime) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The running bot."""
    application = await start_application(runtime)
    try:
        yield application
    finally:
        await stop_application(application)


@pytest.fixture
def make_invite(runtime: Runtime) -> Callable[..., object]:
    """Create an invitation code for a family (as staff would)."""

    async def create(number: str = DUPONT, ttl_days: int = 30) -> str:
        async with runtime.database.unit_of_work() as uow:
            invite = await linking.create_invite(uow, number, runtime.now(), ttl_days)
            await uow.commit()
        return invite.code

    return create


@pytest.fixture
def link(make_invite, bot) -> Callable[..., object]:  # type: ignore[no-untyped-def]
    """Link a fake user to a family through an invite; returns after the home screen."""

    async def do_link(user: FakeUser, number: str = DUPONT) -> None:
        code = await make_invite(number)
        await user.send_command("/start", code)
        await user.next_message()  # home, the confirmation on top

    return do_link
