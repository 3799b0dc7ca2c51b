"""Issuing the invitation letters: a fresh one-time invitation for each family chosen.

Issuing again replaces the earlier invitations of those families: their unused codes expire
at once, so only the latest letter works. The clear codes exist only in the result (to print);
the database keeps their SHA-256 as for every invitation (`bot.services.linking`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.letters import Letter
from bot.services.billing import family_heading
from bot.services.linking import hash_code, invite_link
from bot.services.outbox import tell_staff
from bot.services.use_case import use_case
from storage.db import Database
from storage.models import Invite

ACTION_LETTERS = "letters.issue"
TEMPLATE_ISSUED = "letters.issued"
"""The staff group is told of letters issued from the command line."""


class Selection(StrEnum):
    """Which families get a letter."""

    UNLINKED = "unlinked"
    """Families nobody has linked a Telegram account to yet (the default)."""
    ALL = "all"
    NAMED = "named"
    """Only the families whose N° famille is given."""


@dataclass(frozen=True)
class LetterBatch:
    """The letters to print, and what was replaced."""

    letters: tuple[Letter, ...]
    unknown: tuple[str, ...]
    """N° famille asked for that no family has."""
    retired: int
    """Earlier invitations that stopped working."""


async def issue_letters(
    db: Database,
    *,
    selection: Selection,
    numbers: Sequence[str] = (),
    bot_username: str,
    now: dt.datetime,
    tz: dt.tzinfo,
    ttl_days: int,
    actor_id: int | None,
    actor_kind: str = "staff",
    tell_group: bool = False,
) -> LetterBatch:
    """A new invitation for each family chosen (their older ones expire); audited."""
    wanted = [number.strip() for number in numbers if number.strip()]
    async with use_case(db) as uow:
        repo = uow.repos.invitations
        if selection is Selection.NAMED:
            families = await repo.families(numbers=wanted)
        else:
            families = await repo.families(unlinked_only=selection is Selection.UNLINKED)
        found = {family.number for family in families}
        unknown = tuple(number for number in wanted if number not in found)
        retired = await repo.retire_open_invites([family.id for family in families], now)
        expires_at = now + dt.timedelta(days=ttl_days)
        letters = []
        for family in families:
            code = secrets.token_urlsafe(18)
            repo.add(
                Invite(
                    family_id=family.id,
                    code_hash=hash_code(code),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            name, address = family_heading(family)
            letters.append(
                Letter(
                    family.number,
                    name,
                    address,
                    invite_link(bot_username, code),
                    expires_at.astimezone(tz).date(),
                )
            )
        uow.repos.audit.record(
            action=ACTION_LETTERS,
            outcome="ok",
            actor_telegram_id=actor_id,
            actor_kind=actor_kind,
            target=selection.value,
            details={"families": len(letters), "retired": retired, "unknown": len(unknown)},
            at=now,
        )
        if tell_group and letters:
            await tell_staff(
                uow, TEMPLATE_ISSUED, {"families": len(letters), "retired": retired}, now=now
            )
    return LetterBatch(tuple(letters), unknown, retired)
