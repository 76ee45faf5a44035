"""The audit schema. Records are hash-chained; each payload lives beside its record (keyed by
seq) so it can later be redacted without touching what the chain covers (payload_sha256).
`head` is a single row holding the log's size and last hash: locking it sequences writers."""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData(schema="audit")

records = Table(
    "records",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", JSONB, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("trace_id", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("payload_sha256", CHAR(64), nullable=False),
    Column("prev_hash", CHAR(64), nullable=False),
    Column("leaf_hash", CHAR(64), nullable=False),
    Index("ix_records_target_seq", "target", "seq"),
)

payloads = Table(
    "payloads",
    metadata,
    Column("seq", BigInteger, ForeignKey("records.seq"), primary_key=True, autoincrement=False),
    Column("payload_json", Text, nullable=False),
)

head = Table(
    "head",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("last_hash", CHAR(64), nullable=False),
    CheckConstraint("id = 1", name="ck_head_single_row"),
)
