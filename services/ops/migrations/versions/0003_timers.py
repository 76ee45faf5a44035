"""ops schema: durable timers, escalation policies, notification outbox.

Revision ID: 0003_ops_timers
Revises: 0002_ops_policies
Create Date: 2026-11-28

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision: str = "0003_ops_timers"
down_revision: str | None = "0002_ops_policies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "ops"


def upgrade() -> None:
    _timers()
    _escalation_policies()
    _notifications()


def _timers() -> None:
    op.create_table(
        "timers",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "action_id", UUID(as_uuid=False), sa.ForeignKey("ops.actions.id"), nullable=False
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_by", sa.Text),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "kind IN ('expire', 'escalate', 'remind', 'validity_end')", name="ck_timers_kind"
        ),
        sa.CheckConstraint("state IN ('pending', 'fired', 'cancelled')", name="ck_timers_state"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_timers_due",
        "timers",
        ["due_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index("ix_timers_action", "timers", ["action_id"], schema=SCHEMA)


def _escalation_policies() -> None:
    op.create_table(
        "escalation_policies",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("levels", JSONB, nullable=False),
        sa.Column("repeat_limit", sa.Integer, nullable=False),
        sa.Column("remind_before_expiry_s", sa.BigInteger, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def _notifications() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_notifications_pending",
        "notifications",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    for table in ("notifications", "escalation_policies", "timers"):
        op.drop_table(table, schema=SCHEMA)
