"""ops schema: versioned approval policies (seeded), the action lifecycle columns, vote
versions, the timeline, and the ListActions filter indexes.

Revision ID: 0002_ops_policies
Revises: 0001_ops_initial
Create Date: 2026-12-05

"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision: str = "0002_ops_policies"
down_revision: str | None = "0001_ops_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "ops"
HOUR = 3600
# (id, action_kind, risk, M, K, role requirements, pending_ttl_s, validity_s, compliance_relevant)
SEED = [
    ("default", "*", "", 1, 1, [], 4 * HOUR, HOUR, False),
    ("high-risk", "*", "HIGH", 2, 1, [("compliance", 1)], 4 * HOUR, HOUR, False),
    ("critical", "*", "CRITICAL", 2, 1, [("compliance", 1), ("ops", 1)], HOUR, HOUR // 2, False),
    (
        "kill-switch",
        "disable_strategy_kill_switch",
        "",
        2,
        1,
        [("compliance", 1)],
        HOUR,
        15 * 60,
        True,
    ),
]


def upgrade() -> None:
    _policies()
    _action_columns()
    _votes()
    _timeline()
    for name, columns in INDEXES.items():
        op.create_index(name, "actions", columns, schema=SCHEMA)


INDEXES = {
    "ix_actions_assignee_state_newest": ["assignee", "state", "created_at", "id"],
    "ix_actions_kind_newest": ["kind", "created_at", "id"],
    "ix_actions_risk_newest": ["risk", "created_at", "id"],
}


def _policies() -> None:
    table = op.create_table(
        "approval_policies",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("action_kind", sa.Text, nullable=False),
        sa.Column("risk", sa.Text, nullable=False),
        sa.Column("approvals_required", sa.Integer, nullable=False),
        sa.Column("rejections_to_reject", sa.Integer, nullable=False),
        sa.Column("role_requirements", JSONB, nullable=False),
        sa.Column("pending_ttl_s", sa.BigInteger, nullable=False),
        sa.Column("validity_s", sa.BigInteger, nullable=False),
        sa.Column("compliance_relevant", sa.Boolean, nullable=False),
        sa.Column("escalation_policy_id", sa.Text, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_reason", sa.Text, nullable=False),
        schema=SCHEMA,
    )
    op.bulk_insert(table, [_seed_row(*seed) for seed in SEED])


def _seed_row(
    policy_id: str,
    kind: str,
    risk: str,
    m: int,
    k: int,
    roles: list[tuple[str, int]],
    ttl_s: int,
    validity_s: int,
    compliance_relevant: bool,
) -> dict[str, object]:
    return {
        "id": policy_id,
        "version": 1,
        "action_kind": kind,
        "risk": risk,
        "approvals_required": m,
        "rejections_to_reject": k,
        "role_requirements": [{"role": role, "count": count} for role, count in roles],
        "pending_ttl_s": ttl_s,
        "validity_s": validity_s,
        "compliance_relevant": compliance_relevant,
        "escalation_policy_id": "",
        "changed_by": "migration",
        "changed_at": datetime.now(UTC),
        "change_reason": "seeded by migration 0002",
    }


def _action_columns() -> None:
    text_default = {"nullable": False, "server_default": ""}
    columns = [
        sa.Column("policy_id", sa.Text, nullable=False, server_default="default"),
        sa.Column("policy", JSONB),
        sa.Column("compliance_relevant", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("parameters_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("valid_until", sa.DateTime(timezone=True)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("assignee", sa.Text, **text_default),
        sa.Column("assignee_team", sa.Text, **text_default),
        sa.Column("escalation_level", sa.Integer, nullable=False, server_default="0"),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("executor", sa.Text, **text_default),
        sa.Column("execution_detail", sa.Text, **text_default),
        sa.Column("cancel_reason", sa.Text, **text_default),
    ]
    for column in columns:
        op.add_column("actions", column, schema=SCHEMA)
    # Actions proposed before policies existed get the "default" policy they were decided by.
    op.execute(
        sa.text(
            "UPDATE ops.actions SET expires_at = created_at + interval '4 hours',"
            " decided_at = CASE WHEN state IN ('APPROVED', 'REJECTED') THEN updated_at END,"
            " policy = CAST(:legacy AS jsonb) || jsonb_build_object("
            "'approvals_required', approvals_required)"
        ).bindparams(legacy=json.dumps(_legacy_policy()))
    )
    op.alter_column("actions", "policy", nullable=False, schema=SCHEMA)
    op.alter_column("actions", "expires_at", nullable=False, schema=SCHEMA)


def _legacy_policy() -> dict[str, object]:
    row = _seed_row(*SEED[0])
    row.update(changed_at="", changed_by="migration", change_reason="before policies existed")
    return row


def _votes() -> None:
    op.add_column(
        "votes",
        sa.Column("parameters_version", sa.Integer, nullable=False, server_default="1"),
        schema=SCHEMA,
    )
    op.add_column(
        "votes",
        sa.Column("voided", sa.Boolean, nullable=False, server_default=sa.false()),
        schema=SCHEMA,
    )
    op.drop_constraint("uq_votes_action_voter", "votes", schema=SCHEMA)
    op.create_unique_constraint(
        "uq_votes_action_voter",
        "votes",
        ["action_id", "voter", "parameters_version"],
        schema=SCHEMA,
    )


def _timeline() -> None:
    op.create_table(
        "timeline",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "action_id", UUID(as_uuid=False), sa.ForeignKey("ops.actions.id"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("machine", sa.Boolean, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("details", JSONB, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_timeline_action", "timeline", ["action_id", "at", "id"], schema=SCHEMA)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, "actions", schema=SCHEMA)
    op.drop_table("timeline", schema=SCHEMA)
    op.drop_constraint("uq_votes_action_voter", "votes", schema=SCHEMA)
    op.execute("DELETE FROM ops.votes WHERE parameters_version > 1")
    op.create_unique_constraint(
        "uq_votes_action_voter", "votes", ["action_id", "voter"], schema=SCHEMA
    )
    for column in ("voided", "parameters_version"):
        op.drop_column("votes", column, schema=SCHEMA)
    for column in reversed(_ADDED):
        op.drop_column("actions", column, schema=SCHEMA)
    op.drop_table("approval_policies", schema=SCHEMA)


_ADDED = (
    "policy_id",
    "policy",
    "compliance_relevant",
    "parameters_version",
    "expires_at",
    "valid_until",
    "decided_at",
    "assignee",
    "assignee_team",
    "escalation_level",
    "acknowledged_at",
    "executor",
    "execution_detail",
    "cancel_reason",
)
