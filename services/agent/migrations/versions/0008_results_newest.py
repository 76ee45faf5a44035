"""Agent schema: an index serving ListResults' order (newest first, ties by id), so paging
through compliance results without a check filter reads pages instead of sorting the table.

Revision ID: 0008_agent_results_newest
Revises: 0007_agent_idempotency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_agent_results_newest"
down_revision = "0007_agent_idempotency"
branch_labels = None
depends_on = None

SCHEMA = "agent"
INDEX = "ix_compliance_results_newest"


def upgrade() -> None:
    op.create_index(INDEX, "compliance_results", [sa.text("checked_at DESC"), "id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="compliance_results", schema=SCHEMA)
