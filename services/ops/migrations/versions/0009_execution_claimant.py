"""Ops schema: actions.claimed_by, who claimed an action for execution, "kind:subject" of the
authenticated caller (services.ops.domain.claims). Only they record its result (issue 16: any
ops user could record a result while the real executor ran).

Existing rows: taken from the action's first "execution" timeline entry, written with every
claim in its transaction (a machine entry is a service's claim, any other a person's); "" when
there is none, and then only services may report the result of an action still EXECUTING.

Revision ID: 0009_ops_execution_claimant
Revises: 0008_ops_source_ref_per_proposer
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_ops_execution_claimant"
down_revision = "0008_ops_source_ref_per_proposer"
branch_labels = None
depends_on = None

SCHEMA = "ops"
COLUMN = "claimed_by"
BACKFILL = """
UPDATE ops.actions AS a
SET claimed_by = CASE WHEN t.machine THEN 'service:' ELSE 'person:' END || t.actor
FROM (
    SELECT DISTINCT ON (action_id) action_id, actor, machine
    FROM ops.timeline
    WHERE kind = 'execution'
    ORDER BY action_id, at, id
) AS t
WHERE t.action_id = a.id
"""


def upgrade() -> None:
    op.add_column(
        "actions",
        sa.Column(COLUMN, sa.Text, nullable=False, server_default=""),
        schema=SCHEMA,
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_column("actions", COLUMN, schema=SCHEMA)
