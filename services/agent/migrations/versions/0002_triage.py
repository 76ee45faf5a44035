"""Agent triage: intake fingerprints and correlation, kept rule set versions, decision output
hashes and timing, feedback.

Revision ID: 0002_agent_triage
Revises: 0001_agent_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_agent_triage"
down_revision = "0001_agent_initial"
branch_labels = None
depends_on = None

SCHEMA = "agent"
UUID = postgresql.UUID(as_uuid=False)
TS = sa.DateTime(timezone=True)
INCIDENT_COLUMNS = (
    sa.Column("venue", sa.Text, nullable=False, server_default=""),
    sa.Column("instrument", sa.Text, nullable=False, server_default=""),
    sa.Column("subject_key", sa.Text, nullable=False, server_default=""),
    sa.Column("fingerprint", sa.Text, nullable=False, server_default=""),
    sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"),
    sa.Column("last_seen_at", TS, nullable=False, server_default=sa.func.now()),
    sa.Column("correlation_id", UUID),
)


def upgrade() -> None:
    for column in INCIDENT_COLUMNS:
        op.add_column("incidents", column, schema=SCHEMA)
    # Incidents from before 0002 have no fingerprint (never de-duplicated) and start own groups.
    op.execute(
        "UPDATE agent.incidents SET subject_key = upper(subject), correlation_id = id,"
        " last_seen_at = created_at"
    )
    op.create_index(
        "ix_incidents_fingerprint", "incidents", ["fingerprint", "last_seen_at"], schema=SCHEMA
    )
    op.create_index(
        "ix_incidents_desk_subject",
        "incidents",
        ["desk", "subject_key", "last_seen_at"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_incidents_venue",
        "incidents",
        ["venue", "last_seen_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("venue <> ''"),
    )
    op.create_index("ix_incidents_correlation", "incidents", ["correlation_id"], schema=SCHEMA)
    op.add_column(
        "decisions",
        sa.Column("output_sha256", sa.Text, nullable=False, server_default=""),
        schema=SCHEMA,
    )
    op.add_column(
        "decisions",
        sa.Column("evaluation_us", sa.BigInteger, nullable=False, server_default="0"),
        schema=SCHEMA,
    )
    op.create_index("ix_decisions_created_at", "decisions", ["created_at"], schema=SCHEMA)
    _rule_sets()
    _feedback()


def _rule_sets() -> None:
    op.create_table(
        "rule_sets",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("logic_version", sa.Text, nullable=False, unique=True),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )


def _feedback() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("decision_id", UUID, sa.ForeignKey("agent.decisions.id"), nullable=False),
        sa.Column("verdict", sa.Text, nullable=False),
        sa.Column("corrected_severity", sa.Text, nullable=False, server_default=""),
        sa.Column("corrected_category", sa.Text, nullable=False, server_default=""),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("logic_version", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("verdict IN ('agree', 'override')", name="ck_feedback_verdict"),
        schema=SCHEMA,
    )
    op.create_index("ix_feedback_decision_id", "feedback", ["decision_id"], schema=SCHEMA)
    op.create_index("ix_feedback_logic_version", "feedback", ["logic_version"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("feedback", schema=SCHEMA)
    op.drop_table("rule_sets", schema=SCHEMA)
    op.drop_index("ix_decisions_created_at", "decisions", schema=SCHEMA)
    op.drop_column("decisions", "evaluation_us", schema=SCHEMA)
    op.drop_column("decisions", "output_sha256", schema=SCHEMA)
    for name in ("correlation", "venue", "desk_subject", "fingerprint"):
        op.drop_index(f"ix_incidents_{name}", "incidents", schema=SCHEMA)
    for column in reversed(INCIDENT_COLUMNS):
        op.drop_column("incidents", column.name, schema=SCHEMA)
