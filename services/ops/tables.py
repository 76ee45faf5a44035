"""The ops schema: actions, the votes cast on them, and the outbox of audit events."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from runtime.outbox import outbox_table

metadata = MetaData(schema="ops")

actions = Table(
    "actions",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("parameters", JSONB, nullable=False),
    Column("risk", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("rationale", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("proposed_by", JSONB, nullable=False),
    Column("incident_id", Text, nullable=False),
    Column("decision_id", Text, nullable=False),
    Column("source_ref", Text, nullable=False, unique=True),
    Column("approvals_required", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # ListActions pages newest first, optionally within one state.
    Index("ix_actions_newest", "created_at", "id"),
    Index("ix_actions_state_newest", "state", "created_at", "id"),
)

votes = Table(
    "votes",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("action_id", UUID(as_uuid=False), ForeignKey("actions.id"), nullable=False),
    Column("voter", Text, nullable=False),
    Column("roles", JSONB, nullable=False),
    Column("approve", Boolean, nullable=False),
    Column("comment", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    # One vote per person per action, even if two requests race past the domain check.
    UniqueConstraint("action_id", "voter", name="uq_votes_action_voter"),
)

outbox = outbox_table(metadata)
