"""How a use case owns its transaction, and the refusals it may end with.

Every public service function opens its one unit of work with `use_case(db)` (or
`family_use_case(db, telegram_user_id)` when a parent acts), loads, asks the domain, writes
and commits once. A refusal (`NotLinked`, `NotAllowed`) is an outcome, not a failure: the
transaction still commits, so that the audit row of a forged or stale button is kept, and the
dialogue turns the exception into a polite answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from storage.db import Database, UnitOfWork


class Refused(Exception):
    """The use case refused to act; what it wrote (the audit) is committed."""


class NotLinked(Refused):
    """The Telegram account is not linked to a family."""


class NotAllowed(Refused):
    """A button or command names something this account may not touch (stale or forged)."""


@contextlib.asynccontextmanager
async def use_case(db: Database) -> AsyncIterator[UnitOfWork]:
    """One transaction, committed at the end of the block, and on a refusal too."""
    async with db.unit_of_work() as uow:
        try:
            yield uow
        except Refused:
            await uow.commit()
            raise
        await uow.commit()


async def family_of_account(uow: UnitOfWork, telegram_user_id: int) -> int:
    """The family the account is linked to, or `NotLinked`."""
    link = await uow.repos.telegram.active_link(telegram_user_id)
    if link is None:
        raise NotLinked()
    return link.family_id


@contextlib.asynccontextmanager
async def family_use_case(db: Database, telegram_user_id: int) -> AsyncIterator[tuple[UnitOfWork, int]]:
    """A parent's use case: the transaction and the account's family (or `NotLinked`)."""
    async with use_case(db) as uow:
        yield uow, await family_of_account(uow, telegram_user_id)
