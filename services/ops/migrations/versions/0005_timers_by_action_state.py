"""Ops schema: a timer index on (action_id, state) in place of the one on action_id. A vote or a
state change cancels its action's pending timers; with the plain index the planner, misled by a
young table's statistics, also walked every pending timer through ix_timers_due (3,600 in the
approvals benchmark). The pair leaves one obvious plan and serves reads by action_id as before.

Revision ID: 0005_ops_timers_by_action_state
Revises: 0004_ops_idempotency
"""

from __future__ import annotations

from alembic import op

revision = "0005_ops_timers_by_action_state"
down_revision = "0004_ops_idempotency"
branch_labels = None
depends_on = None

SCHEMA = "ops"
INDEX = "ix_timers_action_state"
REPLACED = "ix_timers_action"


def upgrade() -> None:
    op.create_index(INDEX, "timers", ["action_id", "state"], schema=SCHEMA)
    op.drop_index(REPLACED, table_name="timers", schema=SCHEMA)


def downgrade() -> None:
    op.create_index(REPLACED, "timers", ["action_id"], schema=SCHEMA)
    op.drop_index(INDEX, table_name="timers", schema=SCHEMA)
