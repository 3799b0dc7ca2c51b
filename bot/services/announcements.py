"""`/annonce`: one message from the structure to every linked family, as outbox rows.

Publishing stores the announcement in each linked family's inbox and, in the same
transaction, writes one outbox row per linked account (priority BROADCAST): the sender
delivers them under Telegram's limits after answers to parents, and a restart resumes where
it stopped. The staff member who sent it gets a report once every row has ended: the report
row counts the announcement's rows when it is rendered and, while some still wait, queues
itself again for when they are due (`announcement_report`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.services.inbox import store_structure_message
from bot.services.notifications import all_recipients
from bot.services.outbox import ACCOUNT, Priority, queue_many, tell_account, tell_staff
from bot.services.staff_audit import audit_staff
from bot.services.use_case import use_case
from storage.db import Database, UnitOfWork
from storage.outbox_repository import (
    EXPIRED,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    UNREACHABLE,
    NewMessage,
)

ACTION_PREVIEW = "staff.announce"
ACTION_ANNOUNCE = "announcement.publish"
ACTION_CANCEL = "announcement.cancel"
SUBJECT = "announcement"
TEMPLATE_ANNOUNCEMENT = "announcements.announcement"
"""The announcement, to one account: {"message_id": the family's copy in its inbox}."""
TEMPLATE_REPORT = "announcements.report"
"""The staff's report once every row has ended: {"announcement", "poll", "staff", "chat", "language"}."""


@dataclass(frozen=True)
class Audience:
    """Who an announcement would reach."""

    families: int
    accounts: int


@dataclass(frozen=True)
class Publication:
    """A published announcement: its id (the first inbox copy's) and how many it goes to."""

    announcement_id: int | None
    families: int
    accounts: int


@dataclass(frozen=True)
class DeliveryReport:
    """How an announcement's messages ended."""

    reached: int
    unreachable: int
    failed: int


async def audience(db: Database, *, staff_id: int, now: dt.datetime) -> Audience:
    """How many linked families and accounts an announcement would reach now (the preview)."""
    async with use_case(db) as uow:
        recipients = await all_recipients(uow)
        reach = Audience(families=len({r.family_id for r in recipients}), accounts=len(recipients))
        audit_staff(
            uow,
            staff_id,
            ACTION_PREVIEW,
            now=now,
            details={"families": reach.families, "accounts": reach.accounts},
        )
        return reach


async def publish_announcement(
    db: Database,
    *,
    body: str,
    staff_id: int,
    staff_name: str,
    now: dt.datetime,
    report_chat_id: int | None = None,
    report_language: str | None = None,
) -> Publication:
    """Store the announcement in every linked family's inbox and queue it to every account.

    The report goes to `report_chat_id` (a staff member's private chat, in `report_language`),
    or to the admin group when None.
    """
    async with use_case(db) as uow:
        recipients = await all_recipients(uow)
        copies = {}
        for family_id in sorted({r.family_id for r in recipients}):
            copies[family_id] = await store_structure_message(
                uow,
                family_id=family_id,
                staff_id=staff_id,
                staff_name=staff_name,
                body=body,
                subject=SUBJECT,
                now=now,
            )
        await uow.session.flush()
        announcement_id = min((copy.id for copy in copies.values()), default=None)
        if announcement_id is not None:
            await queue_many(
                uow,
                [
                    NewMessage(
                        audience=ACCOUNT,
                        chat_id=r.telegram_user_id,
                        template=TEMPLATE_ANNOUNCEMENT,
                        params={"message_id": copies[r.family_id].id},
                        language=r.language,
                        priority=int(Priority.BROADCAST),
                        available_at=now,
                        family_id=r.family_id,
                        dedupe_key=f"{_batch(announcement_id)}{r.telegram_user_id}",
                    )
                    for r in recipients
                ],
            )
            report = {
                "announcement": announcement_id,
                "staff": staff_id,
                "chat": report_chat_id,
                "language": report_language,
            }
            await _queue_report(uow, report, poll=0, at=now)
        audit_staff(
            uow,
            staff_id,
            ACTION_ANNOUNCE,
            now=now,
            outcome="ok" if recipients else "refused",
            target=f"announcement:{announcement_id}" if announcement_id else None,
            details={"families": len(copies), "accounts": len(recipients)},
        )
        return Publication(announcement_id, len(copies), len(recipients))


async def cancel_announcement(db: Database, *, staff_id: int, now: dt.datetime) -> None:
    """The staff member cancelled a draft: nothing is sent (audited)."""
    async with use_case(db) as uow:
        audit_staff(uow, staff_id, ACTION_CANCEL, now=now)


async def announcement_text(db: Database, message_id: int) -> str | None:
    """The body of a family's copy of an announcement (for rendering its message)."""
    async with use_case(db, read_only=True) as uow:
        message = await uow.repos.messages.get(message_id)
        return message.body if message is not None else None


async def announcement_report(
    db: Database, params: Mapping[str, Any], *, now: dt.datetime
) -> DeliveryReport | None:
    """How the announcement's messages ended, once every one has; audited then.

    While some still wait, a report row is queued again (for when the last of them is due)
    and None is returned: this one has nothing to say yet.
    """
    async with use_case(db) as uow:
        progress = await uow.repos.outbox.progress(_batch(int(params["announcement"])))
        if SENDING in progress or PENDING in progress:
            due = progress.get(PENDING, (0, None))[1]
            at = now if SENDING in progress or due is None or due < now else due
            await _queue_report(uow, params, poll=int(params.get("poll", 0)) + 1, at=at)
            return None

        def count(*statuses: str) -> int:
            return sum(progress.get(status, (0, None))[0] for status in statuses)

        report = DeliveryReport(count(SENT), count(UNREACHABLE), count(FAILED, EXPIRED, SKIPPED))
        audit_staff(
            uow,
            params.get("staff"),
            ACTION_ANNOUNCE,
            now=now,
            outcome="sent",
            target=f"announcement:{params['announcement']}",
            details={
                "reached": report.reached,
                "unreachable": report.unreachable,
                "failed": report.failed,
            },
        )
        return report


def _batch(announcement_id: int) -> str:
    """The dedupe-key prefix of an announcement's rows."""
    return f"announcement:{announcement_id}:"


async def _queue_report(
    uow: UnitOfWork, params: Mapping[str, Any], *, poll: int, at: dt.datetime
) -> None:
    row = {**params, "poll": poll}
    key = f"announcement-report:{params['announcement']}:{poll}"
    if params.get("chat") is None:
        await tell_staff(
            uow, TEMPLATE_REPORT, row, now=at, priority=Priority.BROADCAST, dedupe_key=key
        )
    else:
        await tell_account(
            uow,
            int(params["chat"]),
            TEMPLATE_REPORT,
            row,
            now=at,
            language=params.get("language"),
            priority=Priority.BROADCAST,
            dedupe_key=key,
        )
