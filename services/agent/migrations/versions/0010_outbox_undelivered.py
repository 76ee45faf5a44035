"""Agent schema: the outbox's index of undelivered rows keyed by id, in place of the one on
next_attempt_at (see runtime.outbox.outbox_table: the relay's claim walked every row delivered
since the last vacuum).

Revision ID: 0010_agent_outbox_undelivered
Revises: 0009_agent_incidents_newest
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_agent_outbox_undelivered"
down_revision = "0009_agent_incidents_newest"
branch_labels = None
depends_on = None

SCHEMA = "agent"
UNDELIVERED = sa.text("delivered_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_undelivered", "outbox", ["id"], schema=SCHEMA, postgresql_where=UNDELIVERED
    )
    op.drop_index("ix_outbox_pending", table_name="outbox", schema=SCHEMA)


def downgrade() -> None:
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=UNDELIVERED,
    )
    op.drop_index("ix_outbox_undelivered", table_name="outbox", schema=SCHEMA)
