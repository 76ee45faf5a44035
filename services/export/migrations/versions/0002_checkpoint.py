"""Exports record the signed audit checkpoint their extract was cut at.

Revision ID: 0002_export_checkpoint
Revises: 0001_export_initial
Create Date: 2026-01-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_export_checkpoint"
down_revision: str | Sequence[str] | None = "0001_export_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "export"


def upgrade() -> None:
    # Defaults keep existing rows valid: they were cut at no checkpoint.
    op.add_column(
        "exports",
        sa.Column("checkpoint_size", sa.BigInteger(), nullable=False, server_default="0"),
        schema=SCHEMA,
    )
    op.add_column(
        "exports",
        sa.Column("checkpoint_root", sa.Text(), nullable=False, server_default=""),
        schema=SCHEMA,
    )
    op.add_column(
        "exports",
        sa.Column("checkpoint_file", sa.Text(), nullable=False, server_default=""),
        schema=SCHEMA,
    )
    op.create_check_constraint(
        "ck_exports_checkpoint",
        "exports",
        "checkpoint_size = 0 OR (to_seq >= 0 AND to_seq < checkpoint_size)",
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_constraint("ck_exports_checkpoint", "exports", type_="check", schema=SCHEMA)
    for column in ("checkpoint_file", "checkpoint_root", "checkpoint_size"):
        op.drop_column("exports", column, schema=SCHEMA)
