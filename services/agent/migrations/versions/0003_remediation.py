"""Agent remediation: plans, their steps (proposed to ops) and executions with attempts.

Revision ID: 0003_agent_remediation
Revises: 0002_agent_triage
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_agent_remediation"
down_revision = "0002_agent_triage"
branch_labels = None
depends_on = None

SCHEMA = "agent"
UUID = postgresql.UUID(as_uuid=False)
TS = sa.DateTime(timezone=True)
JSONB = postgresql.JSONB


def upgrade() -> None:
    op.create_table(
        "remediation_plans",
        sa.Column("decision_id", UUID, sa.ForeignKey("agent.decisions.id"), primary_key=True),
        sa.Column("incident_id", UUID, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("playbook_name", sa.Text, nullable=False),
        sa.Column("playbook_version", sa.Text, nullable=False),
        sa.Column("planned_by", sa.Text, nullable=False),
        sa.Column("planned_at", TS, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "remediation_steps",
        sa.Column(
            "decision_id",
            UUID,
            sa.ForeignKey("agent.remediation_plans.decision_id"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("step_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("risk", sa.Text, nullable=False),
        sa.Column("parameters", JSONB, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("dry_run", JSONB, nullable=False),
        sa.Column("source_ref", sa.Text, nullable=False, unique=True),
        sa.Column("action_id", sa.Text),
        sa.Column("proposal_error", sa.Text, nullable=False, server_default=""),
        sa.Column("proposal_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("decision_id", "step_id"),
        schema=SCHEMA,
    )
    op.create_table(
        "executions",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("action_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("executor", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempt_log", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.Column("reported_at", TS),
        sa.CheckConstraint(
            "state IN ('claiming', 'executing', 'executed', 'failed', 'outcome_unknown')",
            name="ck_executions_state",
        ),
        schema=SCHEMA,
    )
    op.create_index("ix_executions_action_id", "executions", ["action_id"], schema=SCHEMA)
    op.create_index("ix_executions_created_at", "executions", ["created_at"], schema=SCHEMA)
    op.create_index(
        "ix_executions_unreported",
        "executions",
        ["action_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("reported_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("executions", schema=SCHEMA)
    op.drop_table("remediation_steps", schema=SCHEMA)
    op.drop_table("remediation_plans", schema=SCHEMA)
