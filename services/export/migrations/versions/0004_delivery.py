"""Delivery attempts, durable (re)delivery jobs, verifications and export schedules.

Revision ID: 0004_export_delivery
Revises: 0003_export_manifests
Create Date: 2026-01-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_export_delivery"
down_revision: str | Sequence[str] | None = "0003_export_manifests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "export"
EXPORT = "export.exports.id"
UUID = postgresql.UUID(as_uuid=False)
EMPTY_LIST = sa.text("'[]'::jsonb")


def upgrade() -> None:
    _delivery_attempts()
    _deliveries()
    _verifications()
    _schedules()


def _delivery_attempts() -> None:
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("export_id", UUID, sa.ForeignKey(EXPORT), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("bytes", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("actor", sa.Text(), nullable=False, server_default=""),
        sa.CheckConstraint(
            "outcome IN ('delivered', 'failed')", name="ck_delivery_attempts_outcome"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_delivery_attempts_export", "delivery_attempts", ["export_id", "at"], schema=SCHEMA
    )


def _deliveries() -> None:
    op.create_table(
        "deliveries",
        sa.Column("export_id", UUID, sa.ForeignKey(EXPORT), primary_key=True),
        sa.Column("destination", sa.Text(), primary_key=True),
        sa.Column("verify", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("next_attempt_at IS NOT NULL"),
    )


def _verifications() -> None:
    op.create_table(
        "verifications",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("export_id", UUID, sa.ForeignKey(EXPORT), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("problems", postgresql.JSONB(), nullable=False, server_default=EMPTY_LIST),
        sa.Column("fetched_from", sa.Text(), nullable=False, server_default=""),
        sa.Column("actor", sa.Text(), nullable=False, server_default=""),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_verifications_export", "verifications", ["export_id", "checked_at"], schema=SCHEMA
    )


def _schedules() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("name", sa.Text(), nullable=False, unique=True),
        sa.Column("cron", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column(
            "parameters", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
        sa.Column("destination", sa.Text(), nullable=False, server_default=""),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True)),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True)),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_schedules_due",
        "schedules",
        ["next_run_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("enabled"),
    )


def downgrade() -> None:
    for table in ("schedules", "verifications", "deliveries", "delivery_attempts"):
        op.drop_table(table, schema=SCHEMA)
