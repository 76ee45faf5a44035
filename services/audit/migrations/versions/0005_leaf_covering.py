"""audit: the records' primary key carries leaf_hash (INCLUDE), so the leaves a proof reads
(past the in-memory tree's bound, its leaf's block) come from the index alone, without a heap
page each: at 10 million records the heap is ~4 GB and a proof's heap fetch was a random read.

Revision ID: 0005_audit_leaf_covering
Revises: 0004_audit_no_key_table
"""

from alembic import op

revision = "0005_audit_leaf_covering"
down_revision = "0004_audit_no_key_table"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE audit.records DROP CONSTRAINT records_pkey,"
        " ADD CONSTRAINT records_pkey PRIMARY KEY (seq) INCLUDE (leaf_hash)"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE audit.records DROP CONSTRAINT records_pkey,"
        " ADD CONSTRAINT records_pkey PRIMARY KEY (seq)"
    )
