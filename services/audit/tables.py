"""The audit schema's MetaData and the log's tables, shared at the service root because SIEM
forwarding reads them too (its own cursor table is siem/tables.py). Records are hash-chained;
each payload lives beside its record (keyed by seq) so it can later be redacted without
touching what the chain covers (payload_sha256). `head` is a single row holding the log's size
and last hash: locking it sequences writers.

Each table names the least the service's role needs (runtime.migrate grants exactly that): the
log's rows are only ever inserted and read, a redaction sets payload_json alone, and the head
row is locked and moved on. The schema belongs to the owner role, so the service can neither
alter these tables nor re-grant itself more."""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from runtime.db import service_privileges

metadata = MetaData(schema="audit")
APPEND_ONLY = service_privileges("SELECT", "INSERT")

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
    Index("ix_records_occurred_at", "occurred_at"),
    Index("ix_records_action_seq", "action", "seq"),
    info=APPEND_ONLY,
)
Index("ix_records_actor_seq", records.c.actor["subject"].astext, records.c.seq)

# No foreign keys to records: checking one takes a row lock, which needs UPDATE on records, and
# the service's role has none. The verifier checks that every record has its payload.
payloads = Table(
    "payloads",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    # NULL only after a recorded redaction; the record keeps payload_sha256, so proofs hold.
    Column("payload_json", Text),
    info=service_privileges("SELECT", "INSERT", "UPDATE (payload_json)"),
)

redactions = Table(
    "redactions",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("redacted_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("redacted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    info=APPEND_ONLY,
)

# Complete (perfect) Merkle subtrees above the leaves: node (level, idx) covers leaves
# [idx * 2^level, (idx + 1) * 2^level). Level 0 is records.leaf_hash and is not repeated here.
nodes = Table(
    "nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
    info=APPEND_ONLY,
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", CHAR(64), nullable=False),
    Column("key_id", CHAR(8), nullable=False),
    # The whole signed note (C2SP checkpoint body plus signature lines), exactly as signed.
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    info=APPEND_ONLY,
)

head = Table(
    "head",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("last_hash", CHAR(64), nullable=False),
    CheckConstraint("id = 1", name="ck_head_single_row"),
    info=service_privileges("SELECT", "UPDATE"),
)
