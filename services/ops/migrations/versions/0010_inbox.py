"""Ops schema: the inbox. actions.approvable_by, the roles whose approval would still count
(domain.counting.counting_roles, which the vote refuses with; none unless pending), so that
ListActions awaiting_me filters in SQL; and ix_actions_pending_deadline, the pending actions by
deadline (expires_at, riskiest first, id), which that list's DEADLINE order walks; and
ix_votes_voter_counted, a person's counted votes, for the inbox's "not voted on yet".

Existing rows: the pending ones get their roles computed by that same domain function from the
action's policy snapshot and current votes, as the service writes them; the others keep '{}'.
A later change to what counts must recompute the pending actions' column the same way.

Revision ID: 0010_ops_inbox
Revises: 0009_ops_execution_claimant
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from services.ops.domain.actions import Action, Risk, State, Vote
from services.ops.domain.counting import counting_roles
from services.ops.domain.policy import from_snapshot

revision = "0010_ops_inbox"
down_revision = "0009_ops_execution_claimant"
branch_labels = None
depends_on = None

SCHEMA = "ops"
COLUMN = "approvable_by"
INDEX = "ix_actions_pending_deadline"
VOTES_INDEX = "ix_votes_voter_counted"
RISK_ORDER = "array_position('{CRITICAL,HIGH,MEDIUM,LOW}'::text[], risk)"  # riskiest first
BATCH = 2000
PENDING = sa.text(
    "SELECT id::text AS id, kind, risk, requested_by, proposed_by, source_ref, created_at,"
    " updated_at, expires_at, policy, parameters_version, parameters_author"
    " FROM ops.actions WHERE state = 'PENDING_APPROVAL' AND id > CAST(:after AS uuid)"
    " ORDER BY id LIMIT :batch"
)
VOTES = sa.text(
    "SELECT action_id::text AS action_id, voter, roles, approve, at, parameters_version, voided"
    " FROM ops.votes WHERE action_id = ANY(CAST(:ids AS uuid[]))"
)
SET = sa.text(
    "UPDATE ops.actions SET approvable_by = CAST(:roles AS text[])"
    " WHERE id = ANY(CAST(:ids AS uuid[]))"
)


def upgrade() -> None:
    op.add_column(
        "actions",
        sa.Column(COLUMN, ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'::text[]")),
        schema=SCHEMA,
    )
    connection = op.get_bind()
    for rows in pending(connection):
        backfill(connection, rows)
    op.create_index(
        INDEX,
        "actions",
        ["expires_at", sa.text(RISK_ORDER), "id"],
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'PENDING_APPROVAL'"),
    )
    op.create_index(
        VOTES_INDEX,
        "votes",
        ["voter", "action_id", "parameters_version"],
        schema=SCHEMA,
        postgresql_where=sa.text("NOT voided"),
    )


def downgrade() -> None:
    op.drop_index(VOTES_INDEX, table_name="votes", schema=SCHEMA)
    op.drop_index(INDEX, table_name="actions", schema=SCHEMA)
    op.drop_column("actions", COLUMN, schema=SCHEMA)


def pending(connection: sa.Connection) -> Iterator[Sequence[Any]]:
    after = "00000000-0000-0000-0000-000000000000"
    while rows := connection.execute(PENDING, {"after": after, "batch": BATCH}).all():
        yield rows
        after = rows[-1].id


def backfill(connection: sa.Connection, rows: Sequence[Any]) -> None:
    cast: dict[str, list[Vote]] = defaultdict(list)
    for v in connection.execute(VOTES, {"ids": [row.id for row in rows]}).all():
        vote = Vote(
            v.voter, frozenset(v.roles), v.approve, "", v.at, v.parameters_version, v.voided
        )
        cast[v.action_id].append(vote)
    by_roles: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for row in rows:
        roles = counting_roles(_action(row, sorted(cast[row.id], key=lambda v: v.at)))
        by_roles[tuple(sorted(roles))].append(row.id)
    for roles, ids in by_roles.items():
        connection.execute(SET, {"roles": list(roles), "ids": ids})


def _action(row: Any, cast: list[Vote]) -> Action:
    return Action(
        id=row.id,
        kind=row.kind,
        parameters={},
        risk=Risk(row.risk),
        rationale="",
        requested_by=row.requested_by,
        proposed_by=row.proposed_by,
        source_ref=row.source_ref,
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        state=State.PENDING_APPROVAL,
        votes=tuple(cast),
        policy=from_snapshot(row.policy),
        parameters_version=row.parameters_version,
        parameters_author=row.parameters_author,
    )
