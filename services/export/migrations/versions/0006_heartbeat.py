"""Export schema: exports.heartbeat_at, the liveness of a generation in progress (touched every
few seconds while an export is requested or generating), so the stale-export sweeper can tell a
generation whose process died from one still running.

Revision ID: 0006_export_heartbeat
Revises: 0005_export_idempotency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_export_heartbeat"
down_revision = "0005_export_idempotency"
branch_labels = None
depends_on = None

SCHEMA = "export"


def upgrade() -> None:
    op.add_column("exports", sa.Column("heartbeat_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    # The sweeper looks only at unfinished exports: a small partial index keeps its pass cheap.
    op.create_index(
        "ix_exports_unfinished",
        "exports",
        ["updated_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("state IN ('requested', 'generating')"),
    )


def downgrade() -> None:
    op.drop_index("ix_exports_unfinished", "exports", schema=SCHEMA)
    op.drop_column("exports", "heartbeat_at", schema=SCHEMA)
