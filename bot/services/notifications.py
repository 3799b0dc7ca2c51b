"""Who to tell: the Telegram accounts linked to a family, and whether they can be reached.

A family may have several linked accounts (both parents); each is told in their own language.
An account that blocked the bot is noted unreachable (`TelegramUser.unreachable_since`) and
becomes reachable again as soon as a message gets through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.services.use_case import use_case
from storage.db import Database, UnitOfWork


@dataclass(frozen=True)
class Recipient:
    """One linked Telegram account of a family, with its chosen language (None: not chosen)."""

    telegram_user_id: int
    family_id: int
    language: str | None


async def family_recipients(uow: UnitOfWork, family_id: int) -> list[Recipient]:
    """Every account currently linked to the family."""
    rows = await uow.repos.telegram.recipients_of_family(family_id)
    return [Recipient(user_id, family_id, language) for user_id, language in rows]


async def all_recipients(uow: UnitOfWork) -> list[Recipient]:
    """Every linked account of every family, family by family."""
    rows = await uow.repos.telegram.all_recipients()
    return [Recipient(user_id, family_id, language) for family_id, user_id, language in rows]


async def record_reachability(
    uow: UnitOfWork, *, reached: Sequence[int], unreachable: Sequence[int], now: dt.datetime
) -> None:
    """Remember which accounts got the message and which could not be written to."""
    await uow.repos.telegram.mark_reachable(list(reached))
    await uow.repos.telegram.mark_unreachable(list(unreachable), now)


async def note_unreachable_chat(db: Database, chat_id: int, now: dt.datetime) -> None:
    """A private chat answered 403 (the person blocked the bot): note its account unreachable."""
    async with use_case(db, records_update=False) as uow:
        await uow.repos.telegram.mark_unreachable([chat_id], now)
