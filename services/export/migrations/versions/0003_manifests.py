"""Exports gain formats, time ranges, files, manifests in a chain, delivery fields and idempotency
keys; the public parts of the export signing keys are recorded.

Revision ID: 0003_export_manifests
Revises: 0002_export_checkpoint
Create Date: 2026-01-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_export_manifests"
down_revision: str | Sequence[str] | None = "0002_export_checkpoint"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "export"
STATES = "'requested', 'generating', 'signed', 'delivering', 'delivered', 'verified', 'failed'"
_TEXT_COLUMNS = (
    ("format", "jsonl"),
    ("destination", ""),
    ("client_key", ""),
    ("manifest_sha256", ""),
    ("prev_manifest_sha256", ""),
    ("key_id", ""),
    ("location", ""),
)


def upgrade() -> None:
    _export_columns()
    _constraints()
    _manifests()
    _signing_keys()


def _export_columns() -> None:
    for name, default in _TEXT_COLUMNS:
        column = sa.Column(name, sa.Text(), nullable=False, server_default=default)
        op.add_column("exports", column, schema=SCHEMA)
    for name in ("since", "until", "delivered_at", "verified_at"):
        op.add_column("exports", sa.Column(name, sa.DateTime(timezone=True)), schema=SCHEMA)
    for name, default in (("parameters", "'{}'::jsonb"), ("files", "'[]'::jsonb")):
        column = sa.Column(
            name, postgresql.JSONB(), nullable=False, server_default=sa.text(default)
        )
        op.add_column("exports", column, schema=SCHEMA)


def _constraints() -> None:
    op.drop_constraint("ck_exports_state", "exports", type_="check", schema=SCHEMA)
    # Extracts generated before manifests existed were never signed: they cannot be trusted.
    op.execute(
        "UPDATE export.exports SET state = 'failed',"
        " failure_reason = 'generated before exports were signed; export again'"
        " WHERE state = 'generated'"
    )
    op.create_check_constraint("ck_exports_state", "exports", f"state IN ({STATES})", schema=SCHEMA)
    # A time-range extract may be empty (to_seq -1) while still cut at a checkpoint.
    op.drop_constraint("ck_exports_checkpoint", "exports", type_="check", schema=SCHEMA)
    op.create_check_constraint(
        "ck_exports_checkpoint",
        "exports",
        "checkpoint_size = 0 OR to_seq < checkpoint_size",
        schema=SCHEMA,
    )
    op.create_index(
        "ux_exports_client_key",
        "exports",
        ["requested_by", "client_key"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("client_key <> ''"),
    )


def _manifests() -> None:
    op.create_table(
        "manifests",
        sa.Column("position", sa.BigInteger(), primary_key=True),
        sa.Column(
            "export_id",
            postgresql.UUID(as_uuid=False),
            sa.ForeignKey("export.exports.id"),
            unique=True,
        ),
        sa.Column("sha256", sa.Text(), nullable=False, unique=True),
        sa.Column("prev_sha256", sa.Text(), nullable=False, unique=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def _signing_keys() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.Text(), primary_key=True),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("signing_keys", schema=SCHEMA)
    op.drop_table("manifests", schema=SCHEMA)
    op.drop_index("ux_exports_client_key", "exports", schema=SCHEMA)
    op.drop_constraint("ck_exports_checkpoint", "exports", type_="check", schema=SCHEMA)
    op.create_check_constraint(
        "ck_exports_checkpoint",
        "exports",
        "checkpoint_size = 0 OR (to_seq >= 0 AND to_seq < checkpoint_size)",
        schema=SCHEMA,
    )
    op.drop_constraint("ck_exports_state", "exports", type_="check", schema=SCHEMA)
    op.execute(
        "UPDATE export.exports SET state = 'generated' WHERE state <> 'requested'"
        " AND state <> 'failed'"
    )
    op.create_check_constraint(
        "ck_exports_state",
        "exports",
        "state IN ('requested', 'generated', 'failed')",
        schema=SCHEMA,
    )
    for name in ("files", "parameters", "verified_at", "delivered_at", "until", "since"):
        op.drop_column("exports", name, schema=SCHEMA)
    for name, _ in reversed(_TEXT_COLUMNS):
        op.drop_column("exports", name, schema=SCHEMA)
