"""The export schema: export jobs and the outbox."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Index, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import UUID

from runtime.outbox import outbox_table

metadata = MetaData(schema="export")

exports = Table(
    "exports",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("from_seq", BigInteger, nullable=False),
    Column("to_seq", BigInteger, nullable=False),
    Column("file_name", Text, nullable=False, server_default=""),
    Column("sha256", Text, nullable=False, server_default=""),
    Column("size_bytes", BigInteger, nullable=False, server_default="0"),
    Column("record_count", BigInteger, nullable=False, server_default="0"),
    Column("requested_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("failure_reason", Text, nullable=False, server_default=""),
    Column("checkpoint_size", BigInteger, nullable=False, server_default="0"),
    Column("checkpoint_root", Text, nullable=False, server_default=""),
    Column("checkpoint_file", Text, nullable=False, server_default=""),
    CheckConstraint("state IN ('requested', 'generated', 'failed')", name="ck_exports_state"),
    CheckConstraint(
        "from_seq >= 0 AND (to_seq = -1 OR to_seq >= from_seq)", name="ck_exports_range"
    ),
    CheckConstraint(
        "checkpoint_size = 0 OR (to_seq >= 0 AND to_seq < checkpoint_size)",
        name="ck_exports_checkpoint",
    ),
    Index("ix_exports_created_at", "created_at"),
)

outbox = outbox_table(metadata)
