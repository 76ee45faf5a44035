"""Agent schema: compliance check runs, results, schedules and audit summaries.

Revision ID: 0004_agent_compliance
Revises: 0003_agent_remediation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_agent_compliance"
down_revision = "0003_agent_remediation"
branch_labels = None
depends_on = None

SCHEMA = "agent"
UUID = postgresql.UUID(as_uuid=False)
TS = sa.DateTime(timezone=True)
JSONB = postgresql.JSONB


def upgrade() -> None:
    op.create_table(
        "compliance_runs",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_compliance_runs_started", "compliance_runs", ["started_at"], schema=SCHEMA)
    op.create_table(
        "compliance_results",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("run_id", UUID, sa.ForeignKey("agent.compliance_runs.id"), nullable=False),
        sa.Column("check_id", sa.Text, nullable=False),
        sa.Column("check_version", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("examined", sa.BigInteger, nullable=False),
        sa.Column("evidence", JSONB, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("incident_id", sa.Text),
        sa.Column("checked_at", TS, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_compliance_results_run", "compliance_results", ["run_id"], schema=SCHEMA)
    op.create_index(
        "ix_compliance_results_check",
        "compliance_results",
        ["check_id", "checked_at"],
        schema=SCHEMA,
    )
    op.create_table(
        "compliance_schedules",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("interval_s", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("next_run_at", TS, nullable=False),
        sa.Column("last_run_at", TS),
        sa.Column("last_run_id", sa.Text),
        schema=SCHEMA,
    )
    _summaries()


def _summaries() -> None:
    op.create_table(
        "audit_summaries",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("since", TS, nullable=False),
        sa.Column("until", TS, nullable=False),
        sa.Column("first_seq", sa.BigInteger, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("record_count", sa.BigInteger, nullable=False),
        sa.Column("log_size", sa.BigInteger, nullable=False),
        sa.Column("checkpoint_size", sa.BigInteger, nullable=False),
        sa.Column("checkpoint_root", sa.Text, nullable=False),
        sa.Column("checkpoint_key_id", sa.Text, nullable=False),
        sa.Column("figures", JSONB, nullable=False),
        sa.Column("narrative", sa.Text, nullable=False),
        sa.Column("narrator", sa.Text, nullable=False),
        sa.Column("llm_model", sa.Text, nullable=False),
        sa.Column("llm_prompt", sa.Text, nullable=False),
        sa.Column("llm_output", sa.Text, nullable=False),
        sa.Column("desk_hours", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_audit_summaries_created", "audit_summaries", ["created_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("audit_summaries", schema=SCHEMA)
    op.drop_table("compliance_schedules", schema=SCHEMA)
    op.drop_table("compliance_results", schema=SCHEMA)
    op.drop_table("compliance_runs", schema=SCHEMA)
