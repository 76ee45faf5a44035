"""Ops schema: idempotency keys of the creating RPCs (runtime.idempotency): one row per
caller, method and key, claimed before the use case runs, with the stored reply.

Revision ID: 0004_ops_idempotency
Revises: 0003_ops_timers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_ops_idempotency"
down_revision = "0003_ops_timers"
branch_labels = None
depends_on = None

SCHEMA = "ops"


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("caller", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("request_sha256", sa.CHAR(64), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("reply", sa.LargeBinary),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("caller", "method", "key"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys", schema=SCHEMA)
