"""The export schema: export jobs, the manifest chain, delivery attempts, the durable
(re)delivery jobs, verifications, schedules, the outbox and idempotency keys (the delivery and
scheduling tables came with migration 0004_export_delivery), and the S3 object versions of
sealed exports. No key is kept here: the signing key and the earlier public keys are files
(TRADEOPS_EXPORT_SIGNING_KEY_FILE, TRADEOPS_EXPORT_VERIFY_KEYS_FILE); migration 0008 dropped
the table that once held public keys."""

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
    LargeBinary,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from runtime.db import service_privileges
from runtime.idempotency import idempotency_table
from runtime.outbox import outbox_table

metadata = MetaData(schema="export")

STATES = "'requested', 'generating', 'signed', 'delivering', 'delivered', 'verified', 'failed'"

exports = Table(
    "exports",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("format", Text, nullable=False, server_default="jsonl"),
    Column("from_seq", BigInteger, nullable=False),
    Column("to_seq", BigInteger, nullable=False),
    Column("since", DateTime(timezone=True)),
    Column("until", DateTime(timezone=True)),
    Column("parameters", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("destination", Text, nullable=False, server_default=""),
    Column("client_key", Text, nullable=False, server_default=""),
    Column("file_name", Text, nullable=False, server_default=""),
    Column("sha256", Text, nullable=False, server_default=""),
    Column("size_bytes", BigInteger, nullable=False, server_default="0"),
    Column("record_count", BigInteger, nullable=False, server_default="0"),
    Column("files", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("requested_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("failure_reason", Text, nullable=False, server_default=""),
    Column("checkpoint_size", BigInteger, nullable=False, server_default="0"),
    Column("checkpoint_root", Text, nullable=False, server_default=""),
    Column("checkpoint_file", Text, nullable=False, server_default=""),
    Column("manifest_sha256", Text, nullable=False, server_default=""),
    Column("prev_manifest_sha256", Text, nullable=False, server_default=""),
    Column("key_id", Text, nullable=False, server_default=""),
    Column("delivered_at", DateTime(timezone=True)),
    Column("verified_at", DateTime(timezone=True)),
    Column("location", Text, nullable=False, server_default=""),
    # Touched while a generation runs (service/liveness.py); never part of the domain object.
    Column("heartbeat_at", DateTime(timezone=True)),
    CheckConstraint(f"state IN ({STATES})", name="ck_exports_state"),
    CheckConstraint(
        "from_seq >= 0 AND (to_seq = -1 OR to_seq >= from_seq)", name="ck_exports_range"
    ),
    CheckConstraint(
        "checkpoint_size = 0 OR to_seq < checkpoint_size", name="ck_exports_checkpoint"
    ),
    Index("ix_exports_created_at", "created_at"),
    Index(
        "ix_exports_unfinished",
        "updated_at",
        postgresql_where=text("state IN ('requested', 'generating')"),
    ),
    # Idempotency: one export per requester and client key.
    Index(
        "ux_exports_client_key",
        "requested_by",
        "client_key",
        unique=True,
        postgresql_where=text("client_key <> ''"),
    ),
)

# Signed manifests in chain order: each names its predecessor's hash, and no two may name the
# same one (the unique prev_sha256 keeps the chain linear under concurrent signers).
manifests = Table(
    "manifests",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("export_id", UUID(as_uuid=False), ForeignKey("export.exports.id"), unique=True),
    Column("sha256", Text, nullable=False, unique=True),
    Column("prev_sha256", Text, nullable=False, unique=True),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # History: written once, never changed or deleted by the service.
    info=service_privileges("SELECT", "INSERT"),
)

# The version of each object an S3 store holds for a sealed export, as the upload returned
# it: every later read asks for exactly that version, never the newest (migration 0009).
object_versions = Table(
    "object_versions",
    metadata,
    Column("export_id", UUID(as_uuid=False), ForeignKey("export.exports.id"), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("version_id", Text, nullable=False),
    # History: written once with the manifest, never changed or deleted by the service.
    info=service_privileges("SELECT", "INSERT"),
)

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
    # History: written once, never changed or deleted by the service.
    info=service_privileges("SELECT", "INSERT"),
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
    # History: written once, never changed or deleted by the service.
    info=service_privileges("SELECT", "INSERT"),
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

outbox = outbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
