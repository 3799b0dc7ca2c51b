"""The ids of the Telegram updates already acted on (table `handled_updates`).

Telegram delivers an update again when the bot stopped before confirming it. The id is
written in the same transaction as the update's effect, so a second delivery finds it and
changes nothing. Ids are kept a few days (Telegram keeps an unconfirmed update 24 hours).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HandledUpdate
from storage.results import rows_changed

KEEP = dt.timedelta(days=3)
"""How long an id is remembered."""
PURGE_EVERY = 200
"""One insert in this many also deletes the ids older than `KEEP`."""


class HandledUpdateRepository:
    """Remember an update id once; tell whether one was already remembered."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remember(self, update_id: int, now: dt.datetime) -> bool:
        """Record the id; False when it was already there (the update was handled before)."""
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(HandledUpdate)
            .values(update_id=update_id, handled_at=now)
            .on_conflict_do_nothing(
                index_elements=[HandledUpdate.structure_id, HandledUpdate.update_id]
            )
        )
        result = await self.session.execute(statement)
        if update_id % PURGE_EVERY == 0:
            await self.session.execute(
                delete(HandledUpdate).where(HandledUpdate.handled_at < now - KEEP)
            )
        return rows_changed(result) > 0
