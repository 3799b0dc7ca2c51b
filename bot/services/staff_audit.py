"""The audit row of a staff action, written by the staff use case in its own transaction.

A staff service takes the acting staff member's Telegram id and calls `audit_staff` with the
real outcome of what it did ("ok", "refused", "failed"), so the audit never says done for an
action that did not happen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from storage.db import UnitOfWork


def audit_staff(
    uow: UnitOfWork,
    actor_id: int | None,
    action: str,
    *,
    now: dt.datetime,
    outcome: str = "ok",
    family_id: int | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Stage the audit row of a staff action (committed with the action)."""
    uow.repos.audit.record(
        action=action,
        outcome=outcome,
        actor_telegram_id=actor_id,
        actor_kind="staff",
        family_id=family_id,
        target=target,
        details=details,
        at=now,
    )
