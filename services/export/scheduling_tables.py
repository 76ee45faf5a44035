"""Tables of delivery and scheduling: every delivery attempt, the durable (re)delivery jobs the
delivery worker claims, every verification, and the export schedules. They live on the export
`metadata`, so Alembic and the tests see them (migration 0004_export_delivery)."""

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
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.export.tables import metadata

_EXPORT = "export.exports.id"

# Append-only history: one row per attempt, whatever its outcome.
delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("export_id", UUID(as_uuid=False), ForeignKey(_EXPORT), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("destination", Text, nullable=False),
    # "delivered" or "failed".
    Column("outcome", Text, nullable=False),
    # The location on success, the reason on failure.
    Column("detail", Text, nullable=False, server_default=""),
    Column("bytes", BigInteger, nullable=False, server_default="0"),
    # Subject of the person, or the automation's name, that made the attempt.
    Column("actor", Text, nullable=False, server_default=""),
    CheckConstraint("outcome IN ('delivered', 'failed')", name="ck_delivery_attempts_outcome"),
    Index("ix_delivery_attempts_export", "export_id", "at"),
)

# One job per export and destination. next_attempt_at NULL: nothing pending. A claimed job's
# next_attempt_at is pushed a lease ahead, so a crashed attempt is retried once the lease ends.
deliveries = Table(
    "deliveries",
    metadata,
    Column("export_id", UUID(as_uuid=False), ForeignKey(_EXPORT), primary_key=True),
    Column("destination", Text, primary_key=True),
    # Verify by fetch-back after the next successful delivery (set after a failed verification).
    Column("verify", Boolean, nullable=False, server_default=text("false")),
    # Failed attempts since the last success; drives the backoff.
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index(
        "ix_deliveries_due", "next_attempt_at", postgresql_where=text("next_attempt_at IS NOT NULL")
    ),
)

verifications = Table(
    "verifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("export_id", UUID(as_uuid=False), ForeignKey(_EXPORT), nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("problems", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    # The destination's location, or the local directory when there is no destination.
    Column("fetched_from", Text, nullable=False, server_default=""),
    Column("actor", Text, nullable=False, server_default=""),
    Index("ix_verifications_export", "export_id", "checked_at"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("cron", Text, nullable=False),
    Column("time_zone", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("parameters", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("destination", Text, nullable=False, server_default=""),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    # The next slot to run (UTC); it stays put while a run of it is retried.
    Column("next_run_at", DateTime(timezone=True), nullable=False),
    Column("last_run_at", DateTime(timezone=True)),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # A run that broke on our side is retried (same slot) no earlier than retry_at.
    Column("retry_at", DateTime(timezone=True)),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=False, server_default=""),
    Index("ix_schedules_due", "next_run_at", postgresql_where=text("enabled")),
)
