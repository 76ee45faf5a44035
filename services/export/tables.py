"""The export schema: export jobs, the manifest chain, signing keys' public parts, the outbox."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

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
    # Touched while a generation runs (liveness.py); never part of the domain object.
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
)

# Public parts only: private keys live in files (TRADEOPS_EXPORT_SIGNING_KEY_FILE).
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("pem", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("retired_at", DateTime(timezone=True)),
)

outbox = outbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
