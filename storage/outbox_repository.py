"""Queries of the outbox (see `storage.models.OutboxMessage`).

Claiming is the one place where two senders could meet: on PostgreSQL the rows are locked
with `FOR UPDATE SKIP LOCKED`; on SQLite every write transaction starts with `BEGIN IMMEDIATE`
(`storage.db`), so claims are serialised by the database lock itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, OutboxMessage
from storage.results import rows_changed

PENDING, SENDING, SENT = "pending", "sending", "sent"
SKIPPED, UNREACHABLE, FAILED, EXPIRED = "skipped", "unreachable", "failed", "expired"
FINAL_STATUSES = (SENT, SKIPPED, UNREACHABLE, FAILED, EXPIRED)


@dataclass(frozen=True)
class NewMessage:
    """One row to write into the outbox."""

    audience: str
    chat_id: int | None
    template: str
    params: dict[str, Any]
    language: str | None
    priority: int
    available_at: dt.datetime
    family_id: int | None = None
    expires_at: dt.datetime | None = None
    dedupe_key: str | None = None


@dataclass(frozen=True)
class Backlog:
    """What waits in the outbox."""

    pending: int
    oldest: dt.datetime | None


class OutboxRepository:
    """The outbox's rows: written by services, claimed and marked by the sender."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, messages: Sequence[NewMessage]) -> int:
        """Write rows; a row whose `dedupe_key` is already there is left out. Returns how many."""
        if not messages:
            return 0
        rows = [
            {
                "audience": m.audience,
                "chat_id": m.chat_id,
                "family_id": m.family_id,
                "template": m.template,
                "params": m.params,
                "language": m.language,
                "priority": m.priority,
                "status": PENDING,
                "attempts": 0,
                "created_at": m.available_at,
                "available_at": m.available_at,
                "expires_at": m.expires_at,
                "dedupe_key": m.dedupe_key,
            }
            for m in messages
        ]
        if all(m.dedupe_key is None for m in messages):
            # Core's executemany, not the ORM's bulk insert: the metadata's Table, typed as one.
            outbox = Base.metadata.tables[OutboxMessage.__tablename__]
            await self.session.execute(insert(outbox), rows)
            return len(rows)
        statement = _dialect_insert(self.session)(OutboxMessage).on_conflict_do_nothing()
        result = await self.session.execute(statement.returning(OutboxMessage.id), rows)
        return len(result.all())

    async def claim(
        self,
        now: dt.datetime,
        limit: int,
        *,
        audience: str,
        exclude_templates: Sequence[str] = (),
        ids: Sequence[int] | None = None,
    ) -> list[OutboxMessage]:
        """Mark up to `limit` due rows as being sent, most urgent first, and return them.

        `ids` restricts the claim to those rows (those still pending).
        """
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.available_at <= now,
                OutboxMessage.audience == audience,
            )
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
        )
        if exclude_templates:
            query = query.where(OutboxMessage.template.not_in(list(exclude_templates)))
        if ids is not None:
            query = query.where(OutboxMessage.id.in_(list(ids)))
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list((await self.session.execute(query)).scalars())
        if rows:
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([row.id for row in rows]))
                .values(status=SENDING, attempts=OutboxMessage.attempts + 1)
            )  # the loaded rows are updated too (synchronize_session)
        return rows

    async def pending_of(
        self, audience: str, templates: Sequence[str], now: dt.datetime, limit: int
    ) -> list[OutboxMessage]:
        """Due rows of some templates, oldest first, not claimed (for grouping them)."""
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.available_at <= now,
                OutboxMessage.audience == audience,
                OutboxMessage.template.in_(list(templates)),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())

    async def finish(
        self,
        ids: Sequence[int],
        status: str,
        now: dt.datetime,
        *,
        error: str | None = None,
        message_ids: list[int] | None = None,
    ) -> None:
        """Record how rows ended (sent, skipped, unreachable, failed, expired)."""
        if not ids:
            return
        values: dict[str, Any] = {"status": status, "last_error": error}
        if status == SENT:
            values["sent_at"] = now
        if message_ids is not None:
            values["message_ids"] = message_ids
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(list(ids))).values(**values)
        )

    async def retry_later(self, row_id: int, at: dt.datetime, error: str) -> None:
        """Put a row back to be tried again at `at`."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status=PENDING, available_at=at, last_error=error)
        )

    async def defer(self, ids: Sequence[int], at: dt.datetime) -> None:
        """Put claimed rows back, untouched, to be sent at `at` (messages that wait for daytime)."""
        if ids:
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(list(ids)))
                .values(status=PENDING, available_at=at)
            )

    async def undelivered(
        self, template: str, since: dt.datetime, until: dt.datetime
    ) -> list[tuple[dt.datetime, int]]:
        """(expiry, count) of the rows of `template` with an expiry in [since, until) that ended
        expired or failed: what could not be delivered before it stopped being useful."""
        stmt = (
            select(OutboxMessage.expires_at, func.count())
            .where(
                OutboxMessage.template == template,
                OutboxMessage.status.in_([EXPIRED, FAILED]),
                OutboxMessage.expires_at >= since,
                OutboxMessage.expires_at < until,
            )
            .group_by(OutboxMessage.expires_at)
            .order_by(OutboxMessage.expires_at)
        )
        return [
            (expires_at, int(count))
            for expires_at, count in (await self.session.execute(stmt)).all()
        ]

    async def release_claims(self) -> int:
        """Put back every row left "sending" by a sender that died (call only as the one sender)."""
        result = await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.status == SENDING).values(status=PENDING)
        )
        return rows_changed(result)

    async def backlog(self, now: dt.datetime) -> Backlog:
        """How many rows wait (due or not) and since when the oldest due one waits."""
        waiting = or_(OutboxMessage.status == PENDING, OutboxMessage.status == SENDING)
        count = (
            await self.session.execute(select(func.count(OutboxMessage.id)).where(waiting))
        ).scalar_one()
        oldest = (
            await self.session.execute(
                select(func.min(OutboxMessage.available_at)).where(
                    waiting, OutboxMessage.available_at <= now
                )
            )
        ).scalar_one()
        return Backlog(int(count), oldest)

    async def structures_due(self, now: dt.datetime) -> set[int]:
        """The structures with a pending row due now (a unit of work of `all_structures`)."""
        stmt = (
            select(OutboxMessage.structure_id)
            .where(OutboxMessage.status == PENDING, OutboxMessage.available_at <= now)
            .distinct()
        )
        return set((await self.session.execute(stmt)).scalars())

    async def next_due(self) -> dt.datetime | None:
        """When the next pending row becomes due."""
        return (
            await self.session.execute(
                select(func.min(OutboxMessage.available_at)).where(OutboxMessage.status == PENDING)
            )
        ).scalar_one()

    async def with_keys(self, keys: Sequence[str]) -> list[OutboxMessage]:
        """The rows queued under these dedupe keys."""
        if not keys:
            return []
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.in_(list(keys)))
            .order_by(OutboxMessage.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def of_template(self, template: str, **params: Any) -> list[OutboxMessage]:
        """Rows of a template (filtered on params in Python): for tests and the admin tools."""
        rows = (
            await self.session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.template == template)
                .order_by(OutboxMessage.id)
            )
        ).scalars()
        return [
            row
            for row in rows
            if all(row.params.get(key) == value for key, value in params.items())
        ]

    async def progress(self, dedupe_prefix: str) -> dict[str, tuple[int, dt.datetime | None]]:
        """Rows of one batch (dedupe keys starting with `dedupe_prefix`, e.g. an announcement):
        how many are in each status, and the latest `available_at` among them."""
        stmt = (
            select(OutboxMessage.status, func.count(), func.max(OutboxMessage.available_at))
            .where(OutboxMessage.dedupe_key.like(f"{dedupe_prefix}%"))
            .group_by(OutboxMessage.status)
        )
        return {
            status: (int(count), latest)
            for status, count, latest in (await self.session.execute(stmt)).all()
        }

    async def purge_sent_before(self, before: dt.datetime) -> None:
        """Forget rows that ended before `before`."""
        await self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.status.in_(FINAL_STATUSES), OutboxMessage.available_at < before
            )
        )


def _dialect_insert(session: AsyncSession) -> Any:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
