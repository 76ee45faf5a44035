"""Ops schema: the outbox's index of undelivered rows keyed by id, in place of the one on
next_attempt_at (runtime.outbox_migrations: the relay's claim walked every row delivered
since the last vacuum).

Revision ID: 0006_ops_outbox_undelivered
Revises: 0005_ops_timers_by_action_state
"""

from __future__ import annotations

from runtime.outbox_migrations import index_undelivered_by_due_time, index_undelivered_by_id

revision = "0006_ops_outbox_undelivered"
down_revision = "0005_ops_timers_by_action_state"
branch_labels = None
depends_on = None

SCHEMA = "ops"


def upgrade() -> None:
    index_undelivered_by_id(SCHEMA)


def downgrade() -> None:
    index_undelivered_by_due_time(SCHEMA)
