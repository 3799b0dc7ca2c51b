"""the Telegram app's language of an account, apart from its /langue choice

Per-service reminder preferences need no change: they are rows of reminder_preferences whose
kind is "booking:<service code>".

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_users") as batch:
        batch.add_column(sa.Column("app_language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("telegram_users") as batch:
        batch.drop_column("app_language")
