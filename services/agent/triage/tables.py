"""Triage's tables: incidents, triage decisions, kept rule set versions and people's feedback,
on the agent schema's one MetaData."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from runtime.db import service_privileges
from services.agent.tables import metadata

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
    Column("venue", Text, nullable=False, server_default=""),
    Column("instrument", Text, nullable=False, server_default=""),
    Column("subject_key", Text, nullable=False, server_default=""),  # upper-cased subject
    Column("fingerprint", Text, nullable=False, server_default=""),
    Column("occurrences", Integer, nullable=False, server_default="1"),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("correlation_id", UUID(as_uuid=False)),
    # Set when the condition ended (a probe's first passing run); intake never folds a new
    # report onto a resolved incident (migration 0005_agent_probes).
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolution", Text, nullable=False, server_default=""),
    # ListIncidents' order, newest first and ties by id (runtime.paging).
    Index("ix_incidents_newest", text("created_at DESC"), "id"),
    Index("ix_incidents_fingerprint", "fingerprint", "last_seen_at"),
    Index("ix_incidents_desk_subject", "desk", "subject_key", "last_seen_at"),
    Index("ix_incidents_venue", "venue", "last_seen_at", postgresql_where=text("venue <> ''")),
    Index("ix_incidents_correlation", "correlation_id"),
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
    Column("output_sha256", Text, nullable=False, server_default=""),
    Column("evaluation_us", BigInteger, nullable=False, server_default="0"),
    Index("ix_decisions_incident_id", "incident_id"),
    Index("ix_decisions_created_at", "created_at"),
    Index(
        "ix_decisions_pending_proposal",
        "next_proposal_at",
        postgresql_where=text("action_id IS NULL AND recommended_action <> ''"),
    ),
)

# Every rule set version ever active, byte for byte, so any decision can be replayed.
rule_sets = Table(
    "rule_sets",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("logic_version", Text, nullable=False, unique=True),
    Column("sha256", Text, nullable=False),
    Column("document", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # History: written once, never changed or deleted by the service.
    info=service_privileges("SELECT", "INSERT"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("decision_id", UUID(as_uuid=False), ForeignKey("agent.decisions.id"), nullable=False),
    Column("verdict", Text, nullable=False),
    Column("corrected_severity", Text, nullable=False, server_default=""),
    Column("corrected_category", Text, nullable=False, server_default=""),
    Column("reason", Text, nullable=False),
    Column("logic_version", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("verdict IN ('agree', 'override')", name="ck_feedback_verdict"),
    Index("ix_feedback_decision_id", "decision_id"),
    Index("ix_feedback_logic_version", "logic_version"),
)
