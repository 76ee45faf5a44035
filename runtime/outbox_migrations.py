"""Migration steps every service's outbox takes alike (runtime.outbox.outbox_table is the one
definition of the table), called from each service's own revision with its schema."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

UNDELIVERED = sa.text("delivered_at IS NULL")


def index_undelivered_by_id(schema: str) -> None:
    """The index of undelivered rows keyed by id, in place of the one on next_attempt_at:
    the relay's claim walked every row delivered since the last vacuum (runtime.outbox)."""
    op.create_index(
        "ix_outbox_undelivered", "outbox", ["id"], schema=schema, postgresql_where=UNDELIVERED
    )
    op.drop_index("ix_outbox_pending", table_name="outbox", schema=schema)


def index_undelivered_by_due_time(schema: str) -> None:
    """The way back: the index on next_attempt_at as the first revisions made it."""
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["next_attempt_at"],
        schema=schema,
        postgresql_where=UNDELIVERED,
    )
    op.drop_index("ix_outbox_undelivered", table_name="outbox", schema=schema)
