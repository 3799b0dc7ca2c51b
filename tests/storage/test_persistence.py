"""The persistence per update: before an update, one SELECT of its chat's and user's state;
after it, one upsert (or DELETE) of what changed only; nothing kept in memory in between."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from telegram import Chat, Message, Update, User
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ConversationHandler

from storage.db import Database
from storage.persistence import DatabasePersistence
from tests.support.botapi import DEFAULT_TOKEN, BotApiStub

CONVERSATION = "demo"


def private_update(update_id: int, user_id: int) -> Update:
    """A message of `user_id` in its private chat."""
    user = User(user_id, "Parent", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    return Update(
        update_id,
        message=Message(update_id, dt.datetime.now(dt.UTC), chat, from_user=user, text="hi"),
    )


async def _nothing(update: object, context: object) -> None:
    return None


async def bare_application(database: Database, stub: BotApiStub) -> Application:  # type: ignore[type-arg]
    """An initialised Application with the per-update persistence and one persistent
    conversation (nothing else of the bot)."""
    persistence = DatabasePersistence(database, per_update=True, state_connections=4)
    application = (
        ApplicationBuilder()
        .token(DEFAULT_TOKEN)
        .base_url(stub.base_url)
        .persistence(persistence)
        .build()
    )
    persistence.attach(application)
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("go", _nothing)],
            states={},
            fallbacks=[],
            name=CONVERSATION,
            persistent=True,
        )
    )
    await application.initialize()
    return application


def scope(application: Application, update: Update):  # type: ignore[no-untyped-def,type-arg]
    persistence = application.persistence
    assert isinstance(persistence, DatabasePersistence)
    return persistence.update_scope(update)


def states(application: Application):  # type: ignore[no-untyped-def,type-arg]
    return application._conversation_handler_conversations[CONVERSATION]


@contextmanager
def state_statements() -> Iterator[list[str]]:
    """The SQL statements on `bot_state` (and the state locks) run meanwhile, on any engine."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "bot_state" in statement or "advisory" in statement:
            seen.append(statement.split()[0].upper())

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    async with BotApiStub(token=DEFAULT_TOKEN) as botapi:
        yield botapi


async def test_an_update_reads_its_state_once_and_writes_only_what_changed(
    any_database: Database, stub: BotApiStub
) -> None:
    application = await bare_application(any_database, stub)
    lock = ["SELECT"] if any_database.backend == "postgresql" else []  # the state locks
    try:
        with state_statements() as seen:
            async with scope(application, private_update(1, 7)):
                assert application.user_data[7] == {} and states(application).get((7, 7)) is None
                application.user_data[7]["draft"] = {"city": "SAINT-PAUL"}
                states(application)[(7, 7)] = "typing"
        assert seen == [*lock, "SELECT", "INSERT"]  # one upsert for both rows
        assert 7 not in application.user_data and (7, 7) not in states(application)

        with state_statements() as seen:
            async with scope(application, private_update(2, 7)):  # reads, changes nothing
                assert application.user_data[7] == {"draft": {"city": "SAINT-PAUL"}}
                assert states(application)[(7, 7)] == "typing"
        assert seen == [*lock, "SELECT"]

        with state_statements() as seen:
            async with scope(application, private_update(3, 7)):
                application.user_data[7].clear()
                del states(application)[(7, 7)]  # the conversation ended
        assert seen == [*lock, "SELECT", "DELETE"]
        async with any_database.unit_of_work(read_only=True) as uow:
            assert await uow.repos.bot_state.load("user_data") == {}
            assert await uow.repos.bot_state.load("conversation:" + CONVERSATION) == {}
    finally:
        await application.shutdown()


async def test_what_another_process_wrote_is_what_the_next_update_reads(
    any_database: Database, stub: BotApiStub
) -> None:
    other = Database(any_database.url)
    here, there = (
        await bare_application(any_database, stub),
        await bare_application(other, stub),
    )
    try:
        async with scope(here, private_update(1, 7)):
            here.user_data[7]["step"] = 1
        async with scope(there, private_update(2, 7)):
            assert there.user_data[7] == {"step": 1}
            there.user_data[7]["step"] = 2
        async with scope(here, private_update(3, 7)):
            assert here.user_data[7] == {"step": 2}  # not what this process had last
    finally:
        await here.shutdown()
        await there.shutdown()
        await other.dispose()
