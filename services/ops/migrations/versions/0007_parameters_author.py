"""Ops schema: actions.parameters_author, who wrote the current parameters version. The vote
refuses them as a voter (issue 16: someone could rewrite another's action and approve it
alone); a column read with the locked row keeps that off the vote's extra round trips.

Existing rows: the requester for the original parameters (version 1); for an edited action,
the author of its current version's "parameters" timeline entry; "" (unknown) when there is
none.

Revision ID: 0007_ops_parameters_author
Revises: 0006_ops_outbox_undelivered
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_ops_parameters_author"
down_revision = "0006_ops_outbox_undelivered"
branch_labels = None
depends_on = None

SCHEMA = "ops"
COLUMN = "parameters_author"
ORIGINAL = "UPDATE ops.actions SET parameters_author = requested_by WHERE parameters_version = 1"
# The latest entry for the version, should a version ever have been recorded twice.
EDITED = """
UPDATE ops.actions AS a SET parameters_author = t.actor
FROM (
    SELECT DISTINCT ON (action_id, details->>'parameters_version')
           action_id, actor, details->>'parameters_version' AS version
    FROM ops.timeline
    WHERE kind = 'parameters'
    ORDER BY action_id, details->>'parameters_version', at DESC, id DESC
) AS t
WHERE a.parameters_version > 1 AND t.action_id = a.id AND t.version = a.parameters_version::text
"""


def upgrade() -> None:
    op.add_column(
        "actions",
        sa.Column(COLUMN, sa.Text, nullable=False, server_default=""),
        schema=SCHEMA,
    )
    op.execute(ORIGINAL)
    op.execute(EDITED)


def downgrade() -> None:
    op.drop_column("actions", COLUMN, schema=SCHEMA)
