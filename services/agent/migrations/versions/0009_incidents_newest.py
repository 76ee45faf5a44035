"""Agent schema: an index serving ListIncidents' order (newest first, ties by id), so paging
through incidents reads pages instead of sorting the table. It replaces the plain created_at
index, which it also serves (time-range reads), so an intake still updates as many indexes.

Revision ID: 0009_agent_incidents_newest
Revises: 0008_agent_results_newest
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_agent_incidents_newest"
down_revision = "0008_agent_results_newest"
branch_labels = None
depends_on = None

SCHEMA = "agent"
INDEX = "ix_incidents_newest"
REPLACED = "ix_incidents_created_at"


def upgrade() -> None:
    op.create_index(INDEX, "incidents", [sa.text("created_at DESC"), "id"], schema=SCHEMA)
    op.drop_index(REPLACED, table_name="incidents", schema=SCHEMA)


def downgrade() -> None:
    op.create_index(REPLACED, "incidents", ["created_at"], schema=SCHEMA)
    op.drop_index(INDEX, table_name="incidents", schema=SCHEMA)
