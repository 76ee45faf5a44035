"""ops schema: actions, votes, outbox.

Revision ID: 0001_ops_initial
Revises:
Create Date: 2026-11-28

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision: str = "0001_ops_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "ops"


def upgrade() -> None:
    _actions()
    _votes()
    _outbox()


def _actions() -> None:
    op.create_table(
        "actions",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("parameters", JSONB, nullable=False),
        sa.Column("risk", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("proposed_by", JSONB, nullable=False),
        sa.Column("incident_id", sa.Text, nullable=False),
        sa.Column("decision_id", sa.Text, nullable=False),
        sa.Column("source_ref", sa.Text, nullable=False),
        sa.Column("approvals_required", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source_ref", name="actions_source_ref_key"),
        schema=SCHEMA,
    )
    op.create_index("ix_actions_newest", "actions", ["created_at", "id"], schema=SCHEMA)
    op.create_index(
        "ix_actions_state_newest", "actions", ["state", "created_at", "id"], schema=SCHEMA
    )


def _votes() -> None:
    op.create_table(
        "votes",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column(
            "action_id", UUID(as_uuid=False), sa.ForeignKey("ops.actions.id"), nullable=False
        ),
        sa.Column("voter", sa.Text, nullable=False),
        sa.Column("roles", JSONB, nullable=False),
        sa.Column("approve", sa.Boolean, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("action_id", "voter", name="uq_votes_action_voter"),
        schema=SCHEMA,
    )


def _outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
        sa.Column("event", JSONB, nullable=False),
        sa.Column("traceparent", sa.Text, nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    for table in ("outbox", "votes", "actions"):
        op.drop_table(table, schema=SCHEMA)
