"""The agent schema: incidents, triage decisions and the outbox."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from runtime.outbox import outbox_table

metadata = MetaData(schema="agent")

incidents = Table(
    "incidents",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("source", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("desk", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("metrics", JSONB, nullable=False),
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", Text, nullable=False),
    Index("ix_incidents_created_at", "created_at"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("incident_id", UUID(as_uuid=False), ForeignKey("agent.incidents.id"), nullable=False),
    Column("category", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("input_sha256", Text, nullable=False),
    Column("input_snapshot", JSONB, nullable=False),
    Column("output", JSONB, nullable=False),
    Column("logic_name", Text, nullable=False),
    Column("logic_version", Text, nullable=False),
    Column("rules_fired", JSONB, nullable=False),
    Column("recommended_action", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("action_id", Text),
    # Delivery state of the proposal to ops, so retries survive restarts.
    Column("proposal_attempts", Integer, nullable=False, server_default="0"),
    Column("proposal_error", Text),
    Column("next_proposal_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_decisions_incident_id", "incident_id"),
    Index(
        "ix_decisions_pending_proposal",
        "next_proposal_at",
        postgresql_where=text("action_id IS NULL AND recommended_action <> ''"),
    ),
)

outbox = outbox_table(metadata)
