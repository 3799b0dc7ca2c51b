"""The family's right of access: every row held about it, from every table that holds some.

The rows come from `ExportRepository`, generic over the schema, so a table added later is
exported without code. Values are made JSON-friendly here (dates ISO, amounts as strings).
Staff members' Telegram ids are left out (they are not the family's data). Nothing of the
content is ever logged; the export itself is audited (ids only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from bot.services.use_case import family_use_case
from storage.db import Database

ACTION_EXPORT = "data.export"


@dataclass(frozen=True)
class FamilyExport:
    """All data about one family, table by table."""

    family_number: str
    generated_at: dt.datetime
    tables: dict[str, list[dict[str, Any]]]

    def as_json(self) -> dict[str, Any]:
        """The export as one JSON document."""
        return {
            "family_number": self.family_number,
            "generated_at": self.generated_at.isoformat(),
            "tables": self.tables,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


# Telegram ids of staff members are theirs, not the family's: left out of the export.
_STAFF_ID_COLUMNS = {
    "requests": ("decided_by",),
    "payments": ("recorded_by",),
    "documents": ("published_by",),
}


def _without_staff_ids(table: str, row: dict[str, Any]) -> dict[str, Any]:
    for column in _STAFF_ID_COLUMNS.get(table, ()):
        row.pop(column, None)
    if table == "audit_log" and row.get("actor_kind") != "parent":
        row.pop("actor_telegram_id", None)
    if table == "messages" and row.get("direction") != "from_family":
        row.pop("author_telegram_id", None)
    return row


async def export_family_data(
    db: Database, user_id: int, *, now: dt.datetime
) -> FamilyExport | None:
    """Everything held about the account's family; None when it no longer exists. Audited.

    `NotLinked` when the account is not linked to a family.
    """
    async with family_use_case(db, user_id) as (uow, family_id):
        family = await uow.repos.families.get(family_id)
        if family is None:
            return None
        rows = await uow.repos.export.rows_of_family(family_id)
        tables = {
            name: [
                _without_staff_ids(name, {key: _plain(value) for key, value in row.items()})
                for row in items
            ]
            for name, items in rows.items()
        }
        uow.repos.audit.record(
            action=ACTION_EXPORT,
            outcome="ok",
            actor_telegram_id=user_id,
            actor_kind="parent",
            family_id=family_id,
            target=f"family:{family_id}",
            at=now,
        )
        return FamilyExport(family_number=family.number, generated_at=now, tables=tables)
