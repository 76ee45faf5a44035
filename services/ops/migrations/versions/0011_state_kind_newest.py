"""Ops schema: ix_actions_state_kind_newest, the actions of one state and kind, newest first,
for ListActions filtered by both. With only the one-column indexes, a decided state and a kind
read the kind's index from its newest entry: the planner takes the state as spread evenly over
time, but every pending action is newer than every decided one, so the first page of EXECUTED
actions of one kind stepped over every pending and approved action of that kind first (19,000
rows, 250 to 480 ms, of 1,000,000 actions with 100,000 pending; bench/ops_list.py). On both
columns it is a range scan of the page's own rows, whatever the two are.

Built in the migration's transaction, as 0010's index was: writes to ops.actions wait for it
(a few seconds per million actions).

Revision ID: 0011_ops_state_kind_newest
Revises: 0010_ops_inbox
"""

from __future__ import annotations

from alembic import op

revision = "0011_ops_state_kind_newest"
down_revision = "0010_ops_inbox"
branch_labels = None
depends_on = None

SCHEMA = "ops"
INDEX = "ix_actions_state_kind_newest"


def upgrade() -> None:
    op.create_index(INDEX, "actions", ["state", "kind", "created_at", "id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="actions", schema=SCHEMA)
