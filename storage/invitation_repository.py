"""Queries of the invitation letters: which families get one, and retiring older codes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Family, Invite, TelegramLink
from storage.results import rows_changed


class InvitationRepository:
    """Families to invite and their invitations."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def families(
        self, *, numbers: Sequence[str] | None = None, unlinked_only: bool = False
    ) -> Sequence[Family]:
        """Families (guardians loaded), by N° famille: all, those named, or those nobody linked."""
        stmt = select(Family).options(selectinload(Family.guardians)).order_by(Family.number)
        if numbers is not None:
            stmt = stmt.where(Family.number.in_(list(numbers)))
        if unlinked_only:
            linked = select(TelegramLink.family_id).where(TelegramLink.revoked_at.is_(None))
            stmt = stmt.where(Family.id.not_in(linked))
        return (await self.session.execute(stmt)).scalars().all()

    async def retire_open_invites(self, family_ids: Sequence[int], now: dt.datetime) -> int:
        """Make the unused invitations of these families expire now; return how many."""
        if not family_ids:
            return 0
        result = await self.session.execute(
            update(Invite)
            .where(
                Invite.family_id.in_(list(family_ids)),
                Invite.used_at.is_(None),
                Invite.expires_at > now,
            )
            .values(expires_at=now)
        )
        return rows_changed(result)

    def add(self, invite: Invite) -> None:
        """Stage a new invitation."""
        self.session.add(invite)
