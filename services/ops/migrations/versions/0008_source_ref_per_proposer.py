"""Ops schema: a source_ref is unique per proposer, not across everyone (issue 16: a person
calling ProposeAction could take the agent's predictable "decision/<id>" references first, and
the agent's proposal then returned the person's action). actions.proposer is the recorded
proposer, kind first (Action.proposer), and (proposer, source_ref) is the new unique key.

Existing rows: the proposer is taken from their proposed_by, the same JSON Action.proposer
reads, so the agent's re-proposal of a reference it used before the upgrade still finds its
action.

Revision ID: 0008_ops_source_ref_per_proposer
Revises: 0007_ops_parameters_author
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_ops_source_ref_per_proposer"
down_revision = "0007_ops_parameters_author"
branch_labels = None
depends_on = None

SCHEMA = "ops"
COLUMN = "proposer"
OLD_KEY = "actions_source_ref_key"
NEW_KEY = "actions_proposer_source_ref_key"
BACKFILL = (
    "UPDATE ops.actions SET proposer ="
    " coalesce(proposed_by->>'kind', '') || ':' || coalesce(proposed_by->>'subject', '')"
)


def upgrade() -> None:
    op.add_column(
        "actions",
        sa.Column(COLUMN, sa.Text, nullable=False, server_default=""),
        schema=SCHEMA,
    )
    op.execute(BACKFILL)
    # The new key's index first, so no moment is left without a unique key on the column.
    op.create_unique_constraint(NEW_KEY, "actions", [COLUMN, "source_ref"], schema=SCHEMA)
    op.drop_constraint(OLD_KEY, "actions", schema=SCHEMA)


def downgrade() -> None:
    # Fails while two proposers share a source_ref: which action to keep is not ours to pick.
    op.create_unique_constraint(OLD_KEY, "actions", ["source_ref"], schema=SCHEMA)
    op.drop_constraint(NEW_KEY, "actions", schema=SCHEMA)
    op.drop_column("actions", COLUMN, schema=SCHEMA)
