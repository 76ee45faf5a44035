"""Agent schema: scheduled probes (definitions, kept versions, runs) and the resolution of an
incident (resolved_at, resolution) that a probe's recovery records.

Revision ID: 0005_agent_probes
Revises: 0004_agent_compliance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_agent_probes"
down_revision = "0004_agent_compliance"
branch_labels = None
depends_on = None

SCHEMA = "agent"
UUID = postgresql.UUID(as_uuid=False)
TS = sa.DateTime(timezone=True)
JSONB = postgresql.JSONB


def upgrade() -> None:
    op.add_column("incidents", sa.Column("resolved_at", TS), schema=SCHEMA)
    op.add_column(
        "incidents",
        sa.Column("resolution", sa.Text, nullable=False, server_default=""),
        schema=SCHEMA,
    )
    _probes()
    _versions()
    _runs()


def _probes() -> None:
    op.create_table(
        "probes",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("definition", JSONB, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("next_run_at", TS, nullable=False),
        sa.Column("open_incident_id", UUID, sa.ForeignKey("agent.incidents.id")),
        sa.Column("last_run_id", UUID),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_probes_due",
        "probes",
        ["next_run_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("enabled"),
    )


def _versions() -> None:
    op.create_table(
        "probe_versions",
        sa.Column("probe_id", UUID, sa.ForeignKey("agent.probes.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("change", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("definition", JSONB, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("probe_id", "version", name="pk_probe_versions"),
        schema=SCHEMA,
    )


def _runs() -> None:
    op.create_table(
        "probe_runs",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("probe_id", UUID, sa.ForeignKey("agent.probes.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("incident_id", UUID),
        sa.Column("incident_step", sa.Text, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_probe_runs_probe", "probe_runs", ["probe_id", "started_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("probe_runs", schema=SCHEMA)
    op.drop_table("probe_versions", schema=SCHEMA)
    op.drop_table("probes", schema=SCHEMA)
    op.drop_column("incidents", "resolution", schema=SCHEMA)
    op.drop_column("incidents", "resolved_at", schema=SCHEMA)
