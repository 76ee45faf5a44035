"""Compliance runs, their results with evidence, the durable check schedules and the stored
audit summaries, on the agent schema's metadata (migration 0004_agent_compliance)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.agent.tables import metadata

TS = DateTime(timezone=True)

compliance_runs = Table(
    "compliance_runs",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("trigger", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS, nullable=False),
    Column("ok", Boolean, nullable=False),
    Index("ix_compliance_runs_started", "started_at"),
)

compliance_results = Table(
    "compliance_results",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("run_id", UUID(as_uuid=False), ForeignKey("agent.compliance_runs.id"), nullable=False),
    Column("check_id", Text, nullable=False),
    Column("check_version", Integer, nullable=False),
    Column("description", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("examined", BigInteger, nullable=False),
    Column("evidence", JSONB, nullable=False),
    Column("detail", Text, nullable=False),
    Column("incident_id", Text),
    Column("checked_at", TS, nullable=False),
    Index("ix_compliance_results_run", "run_id"),
    Index("ix_compliance_results_check", "check_id", "checked_at"),
    # ListResults' order, newest first and ties by id (runtime.paging).
    Index("ix_compliance_results_newest", text("checked_at DESC"), "id"),
)

# One row per schedule; a replica claims a due row with FOR UPDATE SKIP LOCKED and moves
# next_run_at on before running, so a crash skips at most one run and nothing runs twice.
compliance_schedules = Table(
    "compliance_schedules",
    metadata,
    Column("name", Text, primary_key=True),
    Column("interval_s", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("next_run_at", TS, nullable=False),
    Column("last_run_at", TS),
    Column("last_run_id", Text),
)

audit_summaries = Table(
    "audit_summaries",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("since", TS, nullable=False),
    Column("until", TS, nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("record_count", BigInteger, nullable=False),
    Column("log_size", BigInteger, nullable=False),
    Column("checkpoint_size", BigInteger, nullable=False),
    Column("checkpoint_root", Text, nullable=False),
    Column("checkpoint_key_id", Text, nullable=False),
    Column("figures", JSONB, nullable=False),
    Column("narrative", Text, nullable=False),
    Column("narrator", Text, nullable=False),
    Column("llm_model", Text, nullable=False),
    Column("llm_prompt", Text, nullable=False),
    Column("llm_output", Text, nullable=False),
    Column("desk_hours", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Index("ix_audit_summaries_created", "created_at"),
)
