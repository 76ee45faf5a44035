"""Agent schema: incidents, triage decisions, outbox.

Revision ID: 0001_agent_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_agent_initial"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "agent"
UUID = postgresql.UUID(as_uuid=False)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("desk", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("metrics", postgresql.JSONB, nullable=False),
        sa.Column("observed_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.Text, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_incidents_created_at", "incidents", ["created_at"], schema=SCHEMA)
    op.create_table(
        "decisions",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("incident_id", UUID, sa.ForeignKey("agent.incidents.id"), nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("input_sha256", sa.Text, nullable=False),
        sa.Column("input_snapshot", postgresql.JSONB, nullable=False),
        sa.Column("output", postgresql.JSONB, nullable=False),
        sa.Column("logic_name", sa.Text, nullable=False),
        sa.Column("logic_version", sa.Text, nullable=False),
        sa.Column("rules_fired", postgresql.JSONB, nullable=False),
        sa.Column("recommended_action", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("action_id", sa.Text),
        sa.Column("proposal_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("proposal_error", sa.Text),
        sa.Column("next_proposal_at", TS, nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("ix_decisions_incident_id", "decisions", ["incident_id"], schema=SCHEMA)
    op.create_index(
        "ix_decisions_pending_proposal",
        "decisions",
        ["next_proposal_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("action_id IS NULL AND recommended_action <> ''"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", UUID, nullable=False, unique=True),
        sa.Column("event", postgresql.JSONB, nullable=False),
        sa.Column("traceparent", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("delivered_at", TS),
        sa.Column("last_error", sa.Text),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("outbox", schema=SCHEMA)
    op.drop_table("decisions", schema=SCHEMA)
    op.drop_table("incidents", schema=SCHEMA)
