"""Export schema: the outbox's index of undelivered rows keyed by id, in place of the one on
next_attempt_at (runtime.outbox_migrations: the relay's claim walked every row delivered
since the last vacuum).

Revision ID: 0007_export_outbox_undelivered
Revises: 0006_export_heartbeat
"""

from __future__ import annotations

from runtime.outbox_migrations import index_undelivered_by_due_time, index_undelivered_by_id

revision = "0007_export_outbox_undelivered"
down_revision = "0006_export_heartbeat"
branch_labels = None
depends_on = None

SCHEMA = "export"


def upgrade() -> None:
    index_undelivered_by_id(SCHEMA)


def downgrade() -> None:
    index_undelivered_by_due_time(SCHEMA)
