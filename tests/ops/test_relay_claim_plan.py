"""The outbox relay's claim reads the rows it claims, in id order, through the index of
undelivered rows: a plain index scan, which stops at the batch's size and marks the entries
of rows delivered since the last vacuum dead as it passes them. With the old index (on
next_attempt_at) the planner chose either a bitmap scan, reading and sorting every row
delivered since the last vacuum (the approvals benchmark), or the primary key, filtering out
every row ever delivered (here)."""

from __future__ import annotations

import json
from typing import Any

from psycopg import sql
from sqlalchemy import text

from runtime.db import Database
from runtime.relay import Statements

DELIVERED, BACKLOG, BATCH = 3_000, 1_000, 200
FILL = text(
    "INSERT INTO ops.outbox (event_id, event) SELECT gen_random_uuid(), '{}'::jsonb"
    " FROM generate_series(1, :rows)"
)
DELIVER = text("UPDATE ops.outbox SET delivered_at = now() WHERE delivered_at IS NULL")


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]


async def test_a_claim_reads_one_batch_of_the_backlog_in_id_order(ops_owner_db: Database) -> None:
    async with ops_owner_db.transaction() as session:
        await session.execute(FILL, {"rows": DELIVERED})  # the history, delivered
        await session.execute(DELIVER)
        await session.execute(FILL, {"rows": BACKLOG})
        await session.execute(text("ANALYZE ops.outbox"))
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        assert raw is not None
        claim = Statements(sql.Identifier("ops", "outbox")).claim
        explained = await raw.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + claim, (BATCH,))
        row = await explained.fetchone()
        assert row is not None
        plan = row[0][0]["Plan"]
        scans = [n for n in _nodes(plan) if "Scan" in n["Node Type"]]
        described = json.dumps(plan)
        assert [(n["Node Type"], n.get("Index Name")) for n in scans] == [
            ("Index Scan", "ix_outbox_undelivered")
        ], described
        assert scans[0]["Actual Rows"] == BATCH, described
        assert scans[0].get("Rows Removed by Filter", 0) == 0, described
        assert not any(n["Node Type"] == "Sort" for n in _nodes(plan)), described
        claimed = await raw.execute(claim, (BATCH,))
        ids = [r[0] for r in await claimed.fetchall()]
        assert len(ids) == BATCH
        assert ids == sorted(ids)
