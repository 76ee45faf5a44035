"""Export schema: object_versions, the S3 version id of each file of a sealed export, recorded
with its manifest. Reads ask for those versions only, so a newer version or a delete marker
written with the service's own S3 credentials cannot stand in for the locked one. The S3 store
came in the same release, so no export sealed in a bucket predates this table.

Revision ID: 0009_export_object_versions
Revises: 0008_export_no_key_table
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0009_export_object_versions"
down_revision = "0008_export_no_key_table"
branch_labels = None
depends_on = None

SCHEMA = "export"


def upgrade() -> None:
    op.create_table(
        "object_versions",
        sa.Column(
            "export_id",
            UUID(as_uuid=False),
            sa.ForeignKey("export.exports.id"),
            primary_key=True,
        ),
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("version_id", sa.Text(), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("object_versions", schema=SCHEMA)
