"""The inbox's pages stay index range scans with 100,000 pending actions among 400,000 stored
in no particular order: the first page by deadline and pages deep in the list read
ix_actions_pending_deadline in order, never the table and never a sort, whoever asks. (Without
repository.listing.IN_INDEX_ORDER the page halfway down reads 50,000 rows through a bitmap and
sorts them; with the time and the page's place as two bounds, the scan steps over every entry
before the page.)"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import Database
from services.ops.domain.actions import Awaiting, Filters, Order
from services.ops.repository import listing
from services.ops.service import proposals as service
from services.ops.tables import RISK_RANK
from tests.ops.helpers import NOW

PENDING, TOTAL = 100_000, 400_000
# Pending actions due one second apart from an hour on (every fourth one HIGH, every tenth
# CRITICAL); a fifth only compliance or admin can still advance; olga voted on every seventh
# and requested every eleventh. The decided ones were all due long ago: every pending action is
# due later than now and nearly every other one earlier, which the planner's estimates, taking
# the two as unrelated, do not see (repository.listing.IN_INDEX_ORDER).
FILL = text(
    """
    INSERT INTO ops.actions (id, kind, parameters, risk, state, rationale, requested_by,
        proposed_by, incident_id, decision_id, source_ref, approvals_required, created_at,
        updated_at, policy_id, policy, expires_at, approvable_by)
    SELECT gen_random_uuid(), 'kind_' || (n % 20), '{}'::jsonb,
        CASE WHEN n % 10 = 0 THEN 'CRITICAL' WHEN n % 4 = 0 THEN 'HIGH' ELSE 'LOW' END,
        CASE WHEN n <= :pending THEN 'PENDING_APPROVAL' ELSE 'EXECUTED' END, '',
        CASE WHEN n % 11 = 0 THEN 'olga' ELSE 'rita' END, '{"subject": "triage-agent"}'::jsonb,
        '', '', 'inbox-scale/' || n, 1, CAST(:now AS timestamptz) - n * interval '1 second',
        CAST(:now AS timestamptz), 'default', CAST(:policy AS jsonb),
        CAST(:now AS timestamptz) + CASE WHEN n <= :pending
            THEN interval '1 hour' + n * interval '1 second' ELSE -n * interval '1 second' END,
        CASE WHEN n > :pending THEN '{}'::text[] WHEN n % 5 = 0 THEN '{compliance,admin}'
            ELSE '{ops,compliance,admin}' END
    FROM generate_series(1, :total) AS n
    ORDER BY md5(n::text)  -- stored in no particular order, as actions decided over time are
    """
)
VOTES = text(
    """
    INSERT INTO ops.votes (id, action_id, voter, roles, approve, comment, at)
    SELECT gen_random_uuid(), id, 'olga', '["ops"]'::jsonb, true, '', CAST(:now AS timestamptz)
    FROM ops.actions WHERE state = 'PENDING_APPROVAL' AND source_ref LIKE 'inbox-scale/%'
        AND split_part(source_ref, '/', 2)::int % 7 = 0
    """
)
CALLERS = (
    Awaiting("olga", frozenset({"ops"}), NOW),
    Awaiting("carl", frozenset({"compliance"}), NOW),
)


async def rows_read(
    session: AsyncSession, filters: Filters, after: listing.After | None
) -> tuple[int, str]:
    """How many rows the page's plan touched, and the plan: EXPLAIN ANALYZE of the very query
    the service sends, with its parameters bound and its setting made as the service does."""
    connection = await session.connection()
    await connection.execute(listing.IN_INDEX_ORDER)
    query = listing.listing_query(filters, 51, after).compile(dialect=connection.dialect)
    explained = await connection.exec_driver_sql(
        f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query}", query.params
    )
    plan = explained.scalar_one()[0]["Plan"]
    return touched(plan), json.dumps(plan)


def touched(node: dict[str, Any]) -> int:
    own = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
    scans = own if "Scan" in node["Node Type"] else 0
    return scans + sum(touched(child) for child in node.get("Plans", []))


def index_blocks(node: dict[str, Any]) -> int:
    """The blocks the scan of ix_actions_pending_deadline read: its entries and their rows."""
    own = node.get("Index Name") == "ix_actions_pending_deadline"
    found = node["Shared Hit Blocks"] + node["Shared Read Blocks"] if own else 0
    return found + sum(index_blocks(child) for child in node.get("Plans", []))


def place(fraction: float) -> listing.Deadline:
    """A page's place that far down the pending actions' deadlines."""
    due = NOW + timedelta(hours=1, seconds=PENDING * fraction)
    return due, RISK_RANK["LOW"], "ffffffff-ffff-4fff-bfff-ffffffffffff"


async def test_the_inbox_by_deadline_reads_an_index_range_at_any_depth(
    ops_owner_db: Database,
) -> None:
    policy = json.dumps({"id": "default", "role_requirements": []})
    async with ops_owner_db.transaction() as session:
        values = {"now": NOW, "policy": policy, "pending": PENDING, "total": TOTAL}
        await session.execute(FILL, values)
        await session.execute(VOTES, {"now": NOW})
        await session.execute(text("ANALYZE ops.actions"))
        await session.execute(text("ANALYZE ops.votes"))
        for who in CALLERS:
            filters = Filters(awaiting=who, order=Order.DEADLINE)
            for after in (None, place(0.5), place(0.99)):
                read, plan = await rows_read(session, filters, after)
                assert read < 1_000, (who.voter, after, plan)
                # It starts where the page does: no stepping over the entries before it.
                assert index_blocks(json.loads(plan)) < 150, (who.voter, after, plan)
                assert "ix_actions_pending_deadline" in plan
                assert '"Node Type": "Sort"' not in plan
                assert "Seq Scan" not in plan
    for who in CALLERS:
        filters = Filters(awaiting=who, order=Order.DEADLINE)
        page, token = await service.list_actions(ops_owner_db, filters=filters, page_size=50)
        assert len(page) == 50
        assert token
        places = [listing.place(a, Order.DEADLINE) for a in page]
        assert places == sorted(places)
