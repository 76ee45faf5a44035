"""The ops schema: actions, their votes and timeline, the versioned approval and escalation
policies, the durable timers, the notification queue, and the outbox of audit events."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from runtime.idempotency import idempotency_table
from runtime.outbox import outbox_table
from services.ops.domain.policy import Risk

metadata = MetaData(schema="ops")

# 0010: ListActions' DEADLINE order, riskiest first (CRITICAL 1 ... LOW 4) after the deadline;
# a query spells RISK_ORDER as indexed here, or ix_actions_pending_deadline cannot serve it.
RISK_RANK = {risk.value: rank for rank, risk in enumerate(reversed(Risk), start=1)}
RISK_ORDER = f"array_position('{{{','.join(RISK_RANK)}}}'::text[], risk)"
DEADLINE = ("expires_at", text(RISK_ORDER), "id")
PENDING = text("state = 'PENDING_APPROVAL'")
COUNTED = ("voter", "action_id", "parameters_version")

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
    Column("source_ref", Text, nullable=False),
    Column("approvals_required", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # 0002: the policy snapshot and the lifecycle.
    Column("policy_id", Text, nullable=False, server_default="default"),
    Column("policy", JSONB, nullable=False),
    Column("compliance_relevant", Boolean, nullable=False, server_default=text("false")),
    Column("parameters_version", Integer, nullable=False, server_default="1"),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True)),
    Column("decided_at", DateTime(timezone=True)),
    Column("assignee", Text, nullable=False, server_default=""),
    Column("assignee_team", Text, nullable=False, server_default=""),
    Column("escalation_level", Integer, nullable=False, server_default="0"),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("executor", Text, nullable=False, server_default=""),
    Column("execution_detail", Text, nullable=False, server_default=""),
    Column("cancel_reason", Text, nullable=False, server_default=""),
    # 0007: who wrote the current parameters version ("" when unknown), read with the row by
    # the vote, which refuses them as a voter.
    Column("parameters_author", Text, nullable=False, server_default=""),
    # 0008: whose namespace source_ref is in (Action.proposer), so a person cannot take the
    # agent's predictable references first; the agent's re-proposal stays idempotent.
    Column("proposer", Text, nullable=False, server_default=""),
    # 0009: who claimed it for execution (services.ops.domain.claims), "kind:subject"; only
    # they record its result, so nobody else can fake it.
    Column("claimed_by", Text, nullable=False, server_default=""),
    # 0010: the roles whose approval would still count (domain.counting.counting_roles),
    # written with every change of the action: the inbox (awaiting_me) filters on it in SQL.
    Column("approvable_by", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    UniqueConstraint("proposer", "source_ref", name="actions_proposer_source_ref_key"),
    # ListActions pages newest first; each filter has an index on it and the state, so a
    # filtered first page is an index range scan (without a state, one per state, merged:
    # repository.listing) even with 100,000 pending actions among 1,000,000.
    Index("ix_actions_newest", "created_at", "id"),
    Index("ix_actions_state_newest", "state", "created_at", "id"),
    Index("ix_actions_assignee_state_newest", "assignee", "state", "created_at", "id"),
    # 0011: in place of (kind, ...) and (risk, ...), which the planner took for a decided state
    # and a kind or risk too, stepping over every newer pending action (migration 0011).
    Index("ix_actions_state_kind_newest", "state", "kind", "created_at", "id"),
    Index("ix_actions_state_risk_newest", "state", "risk", "created_at", "id"),
    Index("ix_actions_pending_deadline", *DEADLINE, postgresql_where=PENDING),
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
    Column("parameters_version", Integer, nullable=False, server_default="1"),
    Column("voided", Boolean, nullable=False, server_default=text("false")),
    # One vote per person per parameters version, even if two requests race past the domain
    # check; a parameter change lets everyone vote again.
    UniqueConstraint("action_id", "voter", "parameters_version", name="uq_votes_action_voter"),
    # 0010: a person's counted votes: the inbox's "not voted yet" never reads everyone's.
    Index("ix_votes_voter_counted", *COUNTED, postgresql_where=text("NOT voided")),
)

approval_policies = Table(
    "approval_policies",
    metadata,
    Column("id", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("action_kind", Text, nullable=False),
    Column("risk", Text, nullable=False),  # "" for any risk
    Column("approvals_required", Integer, nullable=False),
    Column("rejections_to_reject", Integer, nullable=False),
    Column("role_requirements", JSONB, nullable=False),
    Column("pending_ttl_s", BigInteger, nullable=False),
    Column("validity_s", BigInteger, nullable=False),
    Column("compliance_relevant", Boolean, nullable=False),
    Column("escalation_policy_id", Text, nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("change_reason", Text, nullable=False),
)

timeline = Table(
    "timeline",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("action_id", UUID(as_uuid=False), ForeignKey("actions.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("machine", Boolean, nullable=False),
    Column("text", Text, nullable=False),
    Column("details", JSONB, nullable=False),
    Index("ix_timeline_action", "action_id", "at", "id"),
)

timers = Table(
    "timers",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("action_id", UUID(as_uuid=False), ForeignKey("actions.id"), nullable=False),
    # "expire", "escalate", "remind" or "validity_end".
    Column("kind", Text, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    # "pending", "fired" or "cancelled".
    Column("state", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("fired_at", DateTime(timezone=True)),
    Column("claimed_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "kind IN ('expire', 'escalate', 'remind', 'validity_end')", name="ck_timers_kind"
    ),
    CheckConstraint("state IN ('pending', 'fired', 'cancelled')", name="ck_timers_state"),
    # Workers only ever look for pending timers that are due.
    Index("ix_timers_due", "due_at", postgresql_where=text("state = 'pending'")),
    Index("ix_timers_action_state", "action_id", "state"),
)

escalation_policies = Table(
    "escalation_policies",
    metadata,
    Column("id", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    # [{"after_s", "notify": [...], "assign_to", "assign_team"}, ...]
    Column("levels", JSONB, nullable=False),
    Column("repeat_limit", Integer, nullable=False),
    Column("remind_before_expiry_s", BigInteger, nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    # A destination name from TRADEOPS_OPS_WEBHOOKS.
    Column("destination", Text, nullable=False),
    Column("body", JSONB, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index(
        "ix_notifications_pending",
        "next_attempt_at",
        postgresql_where=text("delivered_at IS NULL"),
    ),
)

outbox = outbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
