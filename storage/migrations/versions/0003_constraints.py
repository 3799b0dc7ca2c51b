"""constraints the database holds: one whole-structure closure a day, one active link per
account; Request.reason becomes refusal_reason; a closure keeps what it cancelled

Existing duplicates are resolved first: of two whole-structure closures of the same day the
oldest is kept; of two active links of one Telegram account the newest is kept and the others
are revoked (at the migration's time).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _resolve_duplicates() -> None:
    bind = op.get_bind()
    duplicates = bind.execute(
        sa.text(
            "SELECT c.id FROM closures c WHERE c.service_id IS NULL AND EXISTS ("
            " SELECT 1 FROM closures o WHERE o.service_id IS NULL AND o.day = c.day"
            " AND (o.created_at < c.created_at OR (o.created_at = c.created_at AND o.id < c.id)))"
        )
    ).scalars().all()
    for closure_id in duplicates:
        bind.execute(sa.text("DELETE FROM closures WHERE id = :id"), {"id": closure_id})
    stale = bind.execute(
        sa.text(
            "SELECT l.id FROM telegram_links l WHERE l.revoked_at IS NULL AND EXISTS ("
            " SELECT 1 FROM telegram_links n WHERE n.revoked_at IS NULL AND n.telegram_user_id = l.telegram_user_id"
            " AND (n.linked_at > l.linked_at OR (n.linked_at = l.linked_at AND n.id > l.id)))"
        )
    ).scalars().all()
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    for link_id in stale:
        bind.execute(sa.text("UPDATE telegram_links SET revoked_at = :now WHERE id = :id"), {"now": now, "id": link_id})


def upgrade() -> None:
    _resolve_duplicates()
    with op.batch_alter_table("closures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled", sa.JSON(), nullable=True))
        batch_op.create_index(
            "uq_closures_whole_day", ["day"], unique=True,
            postgresql_where=sa.text("service_id IS NULL"), sqlite_where=sa.text("service_id IS NULL"),
        )
    with op.batch_alter_table("telegram_links", schema=None) as batch_op:
        batch_op.create_index(
            "uq_telegram_links_one_active_per_user", ["telegram_user_id"], unique=True,
            postgresql_where=sa.text("revoked_at IS NULL"), sqlite_where=sa.text("revoked_at IS NULL"),
        )
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.alter_column("reason", new_column_name="refusal_reason", existing_type=sa.String(length=500), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.alter_column("refusal_reason", new_column_name="reason", existing_type=sa.String(length=500), existing_nullable=True)
    with op.batch_alter_table("telegram_links", schema=None) as batch_op:
        batch_op.drop_index("uq_telegram_links_one_active_per_user")
    with op.batch_alter_table("closures", schema=None) as batch_op:
        batch_op.drop_index("uq_closures_whole_day")
        batch_op.drop_column("cancelled")
