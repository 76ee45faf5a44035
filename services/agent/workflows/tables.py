"""Trigger rules (every version kept), their firings and the audit-log cursor, on the agent
schema's metadata (migration 0006_agent_triggers)."""

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
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.agent.tables import metadata

TS = DateTime(timezone=True)

triggers = Table(
    "triggers",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("version", Integer, nullable=False),  # the current one
    Column("created_at", TS, nullable=False),
)

# Append-only: a change is a new row, so a firing's (trigger id, version) always resolves.
trigger_versions = Table(
    "trigger_versions",
    metadata,
    Column("trigger_id", UUID(as_uuid=False), ForeignKey("agent.triggers.id"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("enabled", Boolean, nullable=False),
    Column("match_action", Text, nullable=False),
    Column("conditions", JSONB, nullable=False),
    Column("step_kind", Text, nullable=False),
    Column("step_parameters", JSONB, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)

trigger_firings = Table(
    "trigger_firings",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("trigger_id", UUID(as_uuid=False), ForeignKey("agent.triggers.id"), nullable=False),
    Column("trigger_version", Integer, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("event_action", Text, nullable=False),
    Column("event_target", Text, nullable=False),
    Column("facts", JSONB, nullable=False),  # what the step's templates are filled from
    Column("step", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("created", Text, nullable=False),
    Column("next_attempt_at", TS, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("trigger_id", "event_id", name="uq_trigger_firings_event"),
    Index("ix_trigger_firings_seq", "event_seq"),
    Index("ix_trigger_firings_trigger", "trigger_id", "event_seq"),
    Index("ix_trigger_firings_due", "next_attempt_at", postgresql_where=text("state = 'pending'")),
)

# One row per consumed stream: the last audit seq whose events were matched, and the log size
# at which the log holds nothing new but the consumer's own read record (so idle replicas do
# not read, and audit, the log again and again).
trigger_cursors = Table(
    "trigger_cursors",
    metadata,
    Column("name", Text, primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("idle_size", BigInteger, nullable=False),
    Column("updated_at", TS, nullable=False),
)
