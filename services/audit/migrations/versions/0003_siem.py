"""audit: durable SIEM forwarding cursors, one row per destination. Not a log table: the
service's role updates it in place (no append-only trigger).

Revision ID: 0003_audit_siem
Revises: 0002_audit_tree_and_guards
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_audit_siem"
down_revision = "0002_audit_tree_and_guards"
branch_labels = None
depends_on = None

SCHEMA = "audit"


def upgrade() -> None:
    op.create_table(
        "siem_cursors",
        sa.Column("destination", sa.Text(), primary_key=True),
        sa.Column("confirmed_seq", sa.BigInteger(), server_default=sa.text("-1"), nullable=False),
        sa.Column("checkpoint_size", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )
    # The migrating role owns the table; say what the service needs in case they ever differ.
    op.execute("GRANT SELECT, INSERT, UPDATE ON audit.siem_cursors TO CURRENT_USER")


def downgrade() -> None:
    op.drop_table("siem_cursors", schema=SCHEMA)
