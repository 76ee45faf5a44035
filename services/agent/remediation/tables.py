"""Remediation tables on the agent schema's metadata: plans, their steps, and executions."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.agent.tables import metadata

TS = DateTime(timezone=True)
EXECUTION_STATES = ("claiming", "executing", "executed", "failed", "outcome_unknown")

# One plan per decision: planning again returns it, so a plan never changes under approvers.
remediation_plans = Table(
    "remediation_plans",
    metadata,
    Column("decision_id", UUID(as_uuid=False), ForeignKey("agent.decisions.id"), primary_key=True),
    Column("incident_id", UUID(as_uuid=False), nullable=False),
    Column("category", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("playbook_name", Text, nullable=False),
    Column("playbook_version", Text, nullable=False),
    Column("planned_by", Text, nullable=False),
    Column("planned_at", TS, nullable=False),
)

remediation_steps = Table(
    "remediation_steps",
    metadata,
    Column(
        "decision_id",
        UUID(as_uuid=False),
        ForeignKey("agent.remediation_plans.decision_id"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("step_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("risk", Text, nullable=False),
    Column("parameters", JSONB, nullable=False),
    Column("rationale", Text, nullable=False),
    Column("dry_run", JSONB, nullable=False),
    Column("source_ref", Text, nullable=False, unique=True),
    Column("action_id", Text),
    Column("proposal_error", Text, nullable=False, server_default=""),
    Column("proposal_attempts", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("decision_id", "step_id"),
)

# A row per claim attempt: written before ops' StartExecution (so a crash right after the claim
# still leaves a trace the reconciler finds), deleted when ops refuses the claim.
executions = Table(
    "executions",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("action_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("executor", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
    Column("idempotency_key", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("attempt_log", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_at", TS, nullable=False),
    Column("started_at", TS),
    Column("finished_at", TS),
    Column("reported_at", TS),
    CheckConstraint(
        "state IN ('claiming', 'executing', 'executed', 'failed', 'outcome_unknown')",
        name="ck_executions_state",
    ),
    Index("ix_executions_action_id", "action_id"),
    Index("ix_executions_created_at", "created_at"),
    Index("ix_executions_unreported", "action_id", postgresql_where=text("reported_at IS NULL")),
)
