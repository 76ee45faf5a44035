"""audit: records, payloads and the head row that sequences writers.

Revision ID: 0001_audit_initial
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_audit_initial"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "audit"
GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", postgresql.UUID(as_uuid=False), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("actor", postgresql.JSONB(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("trace_id", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("payload_sha256", sa.CHAR(64), nullable=False),
        sa.Column("prev_hash", sa.CHAR(64), nullable=False),
        sa.Column("leaf_hash", sa.CHAR(64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_records_target_seq", "records", ["target", "seq"], unique=False, schema=SCHEMA
    )
    op.create_table(
        "payloads",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        schema=SCHEMA,
    )
    head = op.create_table(
        "head",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.CHAR(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_head_single_row"),
        sa.PrimaryKeyConstraint("id"),
        schema=SCHEMA,
    )
    op.bulk_insert(head, [{"id": 1, "size": 0, "last_hash": GENESIS}])


def downgrade() -> None:
    op.drop_table("head", schema=SCHEMA)
    op.drop_table("payloads", schema=SCHEMA)
    op.drop_index("ix_records_target_seq", table_name="records", schema=SCHEMA)
    op.drop_table("records", schema=SCHEMA)
