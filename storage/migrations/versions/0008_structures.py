"""structures: one deployment serves many structures; every structure's row names its own

The rows already there belong to structure 1, the structure of `.env`. Codes and numbers that
were unique become unique within a structure; the Telegram accounts, update ids, the bot's
persisted state and the reminder preferences are keyed by structure too (each structure has
its bot: a person who blocked one commune's bot is still reachable by another's).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SCOPED_TABLES = (
    "telegram_users",  # first: the accounts' foreign keys below point at its new key
    "audit_log", "bot_state", "children", "documents", "families", "family_imports",
    "handled_updates", "outbox", "regies", "reminder_log", "reminder_preferences",
    "school_years", "authorized_persons", "family_children", "family_import_snapshots",
    "guardians", "health_items", "invites", "invoices", "messages", "requests", "services",
    "telegram_links", "vaccinations", "attendance_marks", "attendance_sessions",
    "booking_windows", "closures", "day_entries", "enrolments", "invoice_lines", "payments",
    "waiting_list", "day_entry_events",
)
UNIQUE_WITHIN_STRUCTURE = {
    "regies": ["code"],
    "services": ["code"],
    "school_years": ["label"],
    "families": ["number"],
    "children": ["identifier"],
    "requests": ["idempotency_key"],
    "invoices": ["number"],
    "payments": ["number"],
    "reminder_log": ["kind", "recipient", "subject"],
    "outbox": ["dedupe_key"],
}
KEYED_BY_STRUCTURE = {
    "telegram_users": ["id"],
    "bot_state": ["kind", "key"],
    "handled_updates": ["update_id"],
    "reminder_preferences": ["telegram_user_id", "kind"],
}
ACCOUNT_TABLES = ("telegram_links", "reminder_preferences")
"""Tables naming a Telegram account: as their structure's bot knows it (structure_id, id)."""
PARTIAL_UNIQUE = {
    "closures": ("uq_closures_whole_day", ["day"], "service_id IS NULL"),
    "telegram_links": ("uq_telegram_links_one_active_per_user", ["telegram_user_id"], "revoked_at IS NULL"),
}


def upgrade() -> None:
    op.create_table(
        "structures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("bot_token", sa.String(length=120), nullable=True),
        sa.Column("bot_username", sa.String(length=64), nullable=True),
        sa.Column("admin_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_user_ids", sa.String(length=400), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("webhook_secret", sa.String(length=256), nullable=True),
        sa.Column("configuration", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_structures")),
        sa.UniqueConstraint("slug", name=op.f("uq_structures_slug")),
        sa.UniqueConstraint("bot_token", name=op.f("uq_structures_bot_token")),
    )
    op.execute(
        "INSERT INTO structures (id, slug, name, staff_user_ids, timezone, enabled, created_at)"
        " VALUES (1, 'default', '', '', 'Europe/Paris', true, CURRENT_TIMESTAMP)"
    )
    for table in ACCOUNT_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(
                op.f(f"fk_{table}_telegram_user_id_telegram_users"), type_="foreignkey"
            )
    for table in SCOPED_TABLES:
        _scope(table)
    for table in ACCOUNT_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(
                op.f(f"fk_{table}_structure_id_telegram_users"),
                "telegram_users",
                ["structure_id", "telegram_user_id"],
                ["structure_id", "id"],
            )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval('structures_id_seq', (SELECT MAX(id) FROM structures))")


def _scope(table: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.add_column(
            sa.Column("structure_id", sa.Integer(), nullable=False, server_default="1")
        )
        batch.create_foreign_key(
            op.f(f"fk_{table}_structure_id_structures"), "structures", ["structure_id"], ["id"]
        )
        columns = UNIQUE_WITHIN_STRUCTURE.get(table)
        if columns:
            batch.drop_constraint(op.f(f"uq_{table}_{'_'.join(columns)}"), type_="unique")
            batch.create_unique_constraint(
                op.f(f"uq_{table}_structure_id_{'_'.join(columns)}"), ["structure_id", *columns]
            )
        key = KEYED_BY_STRUCTURE.get(table)
        if key:
            batch.drop_constraint(op.f(f"pk_{table}"), type_="primary")
            batch.create_primary_key(op.f(f"pk_{table}"), ["structure_id", *key])
        partial = PARTIAL_UNIQUE.get(table)
        if partial:
            name, index_columns, where = partial
            batch.drop_index(name)
            batch.create_index(
                name,
                ["structure_id", *index_columns],
                unique=True,
                postgresql_where=sa.text(where),
                sqlite_where=sa.text(where),
            )
    with op.batch_alter_table(table) as batch:
        batch.alter_column(
            "structure_id", server_default=None, existing_type=sa.Integer(), existing_nullable=False
        )


def downgrade() -> None:
    raise NotImplementedError("structures cannot be merged back into one: restore the backup")
