"""`/annonce`: one message from the structure to every linked family.

The announcement is stored in each family's inbox, then sent to every linked account by the
dialogue, which paces the sending and reports who could not be reached.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.services.inbox import store_structure_message
from bot.services.notifications import Recipient, all_recipients, record_reachability
from storage.db import UnitOfWork

ACTION_ANNOUNCE = "announcement.publish"
SUBJECT = "announcement"


@dataclass(frozen=True)
class Audience:
    """Who an announcement would reach."""

    families: int
    accounts: int


@dataclass(frozen=True)
class Publication:
    """A published announcement: the accounts to send it to."""

    recipients: tuple[Recipient, ...]
    families: int


async def audience(uow: UnitOfWork) -> Audience:
    """How many linked families and accounts an announcement would reach now."""
    recipients = await all_recipients(uow)
    return Audience(families=len({r.family_id for r in recipients}), accounts=len(recipients))


async def publish_announcement(
    uow: UnitOfWork, *, body: str, staff_id: int, staff_name: str, now: dt.datetime
) -> Publication:
    """Store the announcement in every linked family's inbox; the caller commits then sends."""
    recipients = await all_recipients(uow)
    families = sorted({r.family_id for r in recipients})
    for family_id in families:
        await store_structure_message(
            uow, family_id=family_id, staff_id=staff_id, staff_name=staff_name, body=body, subject=SUBJECT, now=now
        )
    uow.repos.audit.record(
        action=ACTION_ANNOUNCE,
        outcome="ok",
        actor_telegram_id=staff_id,
        actor_kind="staff",
        details={"families": len(families), "accounts": len(recipients)},
        at=now,
    )
    return Publication(tuple(recipients), len(families))


async def record_sending(
    uow: UnitOfWork, *, reached: list[int], unreachable: list[int], failed: int, staff_id: int, now: dt.datetime
) -> None:
    """Remember who got the announcement and who blocked the bot."""
    await record_reachability(uow, reached=reached, unreachable=unreachable, now=now)
    uow.repos.audit.record(
        action=ACTION_ANNOUNCE,
        outcome="sent",
        actor_telegram_id=staff_id,
        actor_kind="staff",
        details={"reached": len(reached), "unreachable": len(unreachable), "failed": failed},
        at=now,
    )
