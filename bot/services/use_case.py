"""How a use case owns its transaction, and the refusals it may end with.

Every public service function opens its one unit of work with `use_case(db)` (or
`family_use_case(db, telegram_user_id)` when a parent acts), loads, asks the domain, writes
and commits once. A refusal (`NotLinked`, `NotAllowed`) is an outcome, not a failure: the
transaction still commits, so that the audit row of a forged or stale button is kept, and the
dialogue turns the exception into a polite answer.

A re-delivered Telegram update changes nothing: the middleware of bot/update_guard.py names the
update being handled (`handling_update`), and the first use case of that update that writes
records its id in the same transaction as its effect (table `handled_updates`). A second
delivery of the same id ends in `AlreadyHandled` before anything is done. Use cases that are
not the update's effect (the language looked up for every update) pass `records_update=False`.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

from storage.db import Database, UnitOfWork
from storage.handled_updates import HandledUpdateRepository


class Refused(Exception):
    """The use case refused to act; what it wrote (the audit) is committed."""


class NotLinked(Refused):
    """The Telegram account is not linked to a family."""


class NotAllowed(Refused):
    """A button or command names something this account may not touch (stale or forged)."""


class AlreadyHandled(Refused):
    """This Telegram update was delivered before and acted on: nothing more is done."""


@dataclass
class UpdateMark:
    """The Telegram update being handled, and whether its id is recorded yet."""

    update_id: int
    recorded: bool = False


_CURRENT_UPDATE: contextvars.ContextVar[UpdateMark | None] = contextvars.ContextVar(
    "current_update", default=None
)


def handling_update(update_id: int) -> UpdateMark:
    """Name the update the current task handles (set by the middleware, for this task only)."""
    mark = UpdateMark(update_id)
    _CURRENT_UPDATE.set(mark)
    return mark


@contextlib.asynccontextmanager
async def use_case(
    db: Database, *, records_update: bool = True, read_only: bool = False
) -> AsyncIterator[UnitOfWork]:
    """One transaction, committed at the end of the block, and on a refusal too.

    Within a Telegram update, the first such transaction records the update's id and raises
    `AlreadyHandled` when it was recorded before (see the module's docstring).

    `read_only=True` for a screen that only reads: it takes no write lock on SQLite and records
    no update id (showing a screen twice changes nothing). It may still refuse and stage the
    refusal's audit row: that row is then written by a short write transaction of its own.
    """
    mark = _CURRENT_UPDATE.get() if records_update and not read_only else None
    if mark is not None and mark.recorded:
        mark = None
    async with db.unit_of_work(read_only=read_only) as uow:
        if mark is not None:
            now = dt.datetime.now(dt.UTC)
            if not await HandledUpdateRepository(uow.session).remember(mark.update_id, now):
                raise AlreadyHandled()
        try:
            yield uow
        except Refused:
            if read_only:
                await _write_apart(db, uow)
            else:
                await uow.commit()
            if mark is not None:
                mark.recorded = True
            raise
        await uow.commit()
        if mark is not None:
            mark.recorded = True


async def _write_apart(db: Database, reader: UnitOfWork) -> None:
    """Move the rows a read-only use case staged (its refusal's audit) to a write transaction."""
    staged = list(reader.session.new)
    await reader.rollback()  # the staged rows become transient again
    if staged:
        async with db.transaction() as writer:
            writer.session.add_all(staged)


async def family_of_account(uow: UnitOfWork, telegram_user_id: int) -> int:
    """The family the account is linked to, or `NotLinked`."""
    link = await uow.repos.telegram.active_link(telegram_user_id)
    if link is None:
        raise NotLinked()
    return link.family_id


@contextlib.asynccontextmanager
async def family_use_case(
    db: Database, telegram_user_id: int, *, read_only: bool = False
) -> AsyncIterator[tuple[UnitOfWork, int]]:
    """A parent's use case: the transaction and the account's family (or `NotLinked`)."""
    async with use_case(db, read_only=read_only) as uow:
        yield uow, await family_of_account(uow, telegram_user_id)
