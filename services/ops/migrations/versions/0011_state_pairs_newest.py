"""Ops schema: ix_actions_state_kind_newest and ix_actions_state_risk_newest, the actions of one
state and kind (or risk), newest first, for ListActions filtered by both. With only the
one-column indexes, a decided state and a kind read the kind's index from its newest entry: the
planner takes the state as spread evenly over time, but every pending action is newer than every
decided one, so the first page of EXECUTED actions of one kind stepped over every pending and
approved action of that kind first (19,000 rows, 250 to 480 ms, of 1,000,000 actions with
100,000 pending; bench/ops_list.py); REJECTED and CRITICAL stepped over 8,000 (7 to 27 ms), a
number that grows with the pending backlog. On both columns each is a range scan of the page's
own rows, whatever the two are. But the planner can still take the kind's or risk's own index
over the pair's (EXECUTED and LOW did: their costs came out equal, and it read 85,000 rows,
300 to 630 ms), so those two go: a kind or risk without a state is now read from the pairs,
each state's range in turn, merged (repository.listing), which leaves the index count as it was.

Built in the migration's transaction, as 0010's index was: writes to ops.actions wait for it
(a few seconds per million actions).

Revision ID: 0011_ops_state_pairs_newest
Revises: 0010_ops_inbox
"""

from __future__ import annotations

from alembic import op

revision = "0011_ops_state_pairs_newest"
down_revision = "0010_ops_inbox"
branch_labels = None
depends_on = None

SCHEMA = "ops"
INDEXES = {
    "ix_actions_state_kind_newest": ["state", "kind", "created_at", "id"],
    "ix_actions_state_risk_newest": ["state", "risk", "created_at", "id"],
}
REPLACED = {
    "ix_actions_kind_newest": ["kind", "created_at", "id"],
    "ix_actions_risk_newest": ["risk", "created_at", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "actions", columns, schema=SCHEMA)
    for name in REPLACED:
        op.drop_index(name, table_name="actions", schema=SCHEMA)


def downgrade() -> None:
    for name, columns in REPLACED.items():
        op.create_index(name, "actions", columns, schema=SCHEMA)
    for name in INDEXES:
        op.drop_index(name, table_name="actions", schema=SCHEMA)
