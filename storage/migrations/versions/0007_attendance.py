"""attendance: the sessions staff take attendance of (pointage), and each child's mark

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DAY_STATUS = sa.Enum(
    "reserved",
    "regular",
    "pending",
    "booking_processing",
    "booking_refused",
    "absence_processing",
    "absent_excused",
    "absent_billed",
    "present",
    "cancelled",
    name="daystatus",
    native_enum=False,
    length=32,
)


def upgrade() -> None:
    op.create_table(
        "attendance_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.BigInteger(), nullable=True),
        sa.Column("list_messages", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_attendance_sessions_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_sessions")),
        sa.UniqueConstraint(
            "service_id", "day", name=op.f("uq_attendance_sessions_service_id_day")
        ),
    )
    op.create_table(
        "attendance_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("planned", DAY_STATUS, nullable=True),
        sa.Column("arrived_at", sa.DateTime(), nullable=True),
        sa.Column("left_at", sa.DateTime(), nullable=True),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.Column("marked_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["children.id"],
            name=op.f("fk_attendance_marks_child_id_children"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["families.id"],
            name=op.f("fk_attendance_marks_family_id_families"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_attendance_marks_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_marks")),
        sa.UniqueConstraint(
            "child_id",
            "service_id",
            "day",
            name=op.f("uq_attendance_marks_child_id_service_id_day"),
        ),
    )
    op.create_index(
        "ix_attendance_marks_service_day", "attendance_marks", ["service_id", "day"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_attendance_marks_service_day", table_name="attendance_marks")
    op.drop_table("attendance_marks")
    op.drop_table("attendance_sessions")
