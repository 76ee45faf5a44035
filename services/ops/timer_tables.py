"""Tables of the time-and-people side of ops: durable timers, versioned escalation policies and
the notification outbox. They live on the ops `metadata`, so Alembic and the tests see them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.ops.tables import metadata

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
