"""Export schema: drop signing_keys. Verification and the published key list trust only keys
pinned in files (the key file and TRADEOPS_EXPORT_VERIFY_KEYS_FILE), never rows the service's
role can write. Keys the table held besides the current one are printed as a verify-keys list,
for an operator to check against their own records and pin (rows the service could write are
no proof on their own).

Revision ID: 0008_export_no_key_table
Revises: 0007_export_outbox_undelivered
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0008_export_no_key_table"
down_revision = "0007_export_outbox_undelivered"
branch_labels = None
depends_on = None

SCHEMA = "export"


def upgrade() -> None:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT key_id, pem, created_at, retired_at FROM export.signing_keys"
            " WHERE retired_at IS NOT NULL ORDER BY created_at DESC"
        )
    )
    retired = [
        {
            "key_id": row.key_id,
            "pem": row.pem,
            "created_at": row.created_at.isoformat(),
            "retired_at": row.retired_at.isoformat(),
        }
        for row in rows
    ]
    if retired:
        print(
            "export: the dropped table export.signing_keys held these retired public keys; "
            "after checking them, pin them in TRADEOPS_EXPORT_VERIFY_KEYS_FILE so exports they "
            "signed still verify:\n" + json.dumps(retired, indent=2)
        )
    op.drop_table("signing_keys", schema=SCHEMA)


def downgrade() -> None:
    # Back empty: the keys stay pinned in their files.
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.Text(), primary_key=True),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
