"""Agent schema: trigger rules (every version kept), their firings and the audit-log cursor.

Revision ID: 0006_agent_triggers
Revises: 0005_agent_probes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_agent_triggers"
down_revision = "0005_agent_probes"
branch_labels = None
depends_on = None

SCHEMA = "agent"
UUID = postgresql.UUID(as_uuid=False)
TS = sa.DateTime(timezone=True)
JSONB = postgresql.JSONB


def upgrade() -> None:
    op.create_table(
        "triggers",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "trigger_versions",
        sa.Column("trigger_id", UUID, sa.ForeignKey("agent.triggers.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("match_action", sa.Text, nullable=False),
        sa.Column("conditions", JSONB, nullable=False),
        sa.Column("step_kind", sa.Text, nullable=False),
        sa.Column("step_parameters", JSONB, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        schema=SCHEMA,
    )
    _firings()
    op.create_table(
        "trigger_cursors",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("idle_size", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        schema=SCHEMA,
    )


def _firings() -> None:
    op.create_table(
        "trigger_firings",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("trigger_id", UUID, sa.ForeignKey("agent.triggers.id"), nullable=False),
        sa.Column("trigger_version", sa.Integer, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.Column("event_action", sa.Text, nullable=False),
        sa.Column("event_target", sa.Text, nullable=False),
        sa.Column("facts", JSONB, nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("trigger_id", "event_id", name="uq_trigger_firings_event"),
        schema=SCHEMA,
    )
    index = op.create_index
    index("ix_trigger_firings_seq", "trigger_firings", ["event_seq"], schema=SCHEMA)
    index(
        "ix_trigger_firings_trigger", "trigger_firings", ["trigger_id", "event_seq"], schema=SCHEMA
    )
    index(
        "ix_trigger_firings_due",
        "trigger_firings",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("trigger_cursors", schema=SCHEMA)
    op.drop_table("trigger_firings", schema=SCHEMA)
    op.drop_table("trigger_versions", schema=SCHEMA)
    op.drop_table("triggers", schema=SCHEMA)
