"""audit: drop signing_keys. Verification and the published keys come from the configured
keyring alone (TRADEOPS_AUDIT_SIGNING_KEYS(_FILE)), never from a table the service can write;
the service's role could replace rows there and so choose which keys verification trusts.

Revision ID: 0004_audit_no_key_table
Revises: 0003_audit_siem
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_audit_no_key_table"
down_revision = "0003_audit_siem"
branch_labels = None
depends_on = None

SCHEMA = "audit"


def upgrade() -> None:
    op.drop_table("signing_keys", schema=SCHEMA)


def downgrade() -> None:
    # The table comes back empty: its rows were only ever copies of the keyring's public keys.
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.CHAR(8), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("vkey", sa.Text(), nullable=False, unique=True),
        sa.Column("from_size", sa.BigInteger(), nullable=False),
        sa.Column("until_size", sa.BigInteger()),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=SCHEMA,
    )
