"""The registry of structures a deployment serves (the `structures` table).

Reached from a unit of work acting for no structure (`Database.registry()`): the one place that
sees every structure's bot token and admin group.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import StructureRecord


class StructureRegistry:
    """Every structure of the deployment, enabled or not."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> Sequence[StructureRecord]:
        """Every structure, in the order they were added."""
        return (
            await self.session.scalars(select(StructureRecord).order_by(StructureRecord.id))
        ).all()

    async def enabled(self) -> Sequence[StructureRecord]:
        """The structures to serve, in the order they were added."""
        stmt = (
            select(StructureRecord)
            .where(StructureRecord.enabled.is_(True))
            .order_by(StructureRecord.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def get(self, structure_id: int) -> StructureRecord | None:
        """One structure by id."""
        return await self.session.get(StructureRecord, structure_id)

    async def by_slug(self, slug: str) -> StructureRecord | None:
        """One structure by its short name."""
        stmt = select(StructureRecord).where(StructureRecord.slug == slug)
        return (await self.session.scalars(stmt)).first()

    async def by_token(self, token: str) -> StructureRecord | None:
        """The structure whose bot has this token."""
        stmt = select(StructureRecord).where(StructureRecord.bot_token == token)
        return (await self.session.scalars(stmt)).first()

    async def add(self, record: StructureRecord) -> StructureRecord:
        """Record a new structure (its id is set)."""
        self.session.add(record)
        await self.session.flush()
        return record
