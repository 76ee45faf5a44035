"""Cancelling one action's pending timers (every vote that decides, every state change) reads
that action's timers, not every pending timer, even while the table is young and its
statistics say little."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from runtime.db import Database
from services.ops.repository.timers import CANCEL
from tests.ops.helpers import NOW

ACTIONS = 3_000
FILL = text(
    """
    WITH made AS (
        INSERT INTO ops.actions (id, kind, parameters, risk, state, rationale, requested_by,
            proposed_by, incident_id, decision_id, source_ref, approvals_required, created_at,
            updated_at, policy_id, policy, expires_at)
        SELECT gen_random_uuid(), 'restart_service', '{}'::jsonb, 'LOW', 'PENDING_APPROVAL', '',
            'rita', '{}'::jsonb, '', '', 'timers/' || n, 1, CAST(:now AS timestamptz),
            CAST(:now AS timestamptz), 'default', '{}'::jsonb,
            CAST(:now AS timestamptz) + interval '4 hours'
        FROM generate_series(1, :rows) AS n
        RETURNING id, expires_at
    )
    INSERT INTO ops.timers (action_id, kind, due_at)
    SELECT id, kind, expires_at FROM made, unnest(ARRAY['expire', 'remind']) AS kind
    RETURNING action_id::text
    """
)


def _scanned(node: dict[str, Any]) -> int:
    own = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
    scans = own if "Scan" in node["Node Type"] else 0
    return scans + sum(_scanned(child) for child in node.get("Plans", []))


async def test_cancelling_one_actions_timers_reads_only_that_actions_rows(
    ops_db: Database,
) -> None:
    async with ops_db.transaction() as session:
        made = await session.execute(FILL, {"now": NOW.isoformat(), "rows": ACTIONS})
        action_id = made.scalars().first()
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        assert raw is not None
        for kinds in (None, ["expire"]):
            explained = await raw.execute(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {CANCEL}", (action_id, kinds, kinds)
            )
            row = await explained.fetchone()
            assert row is not None
            plan = row[0][0]["Plan"]
            assert _scanned(plan) < 20, json.dumps(plan)
            assert "ix_timers_due" not in json.dumps(plan)
