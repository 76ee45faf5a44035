"""A filtered first page stays an index range scan with 100,000 pending actions."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import Database
from services.ops.domain.actions import Filters, Risk, State
from services.ops.repository import actions as repository
from services.ops.service import proposals as service
from services.ops.tables import actions
from tests.ops.helpers import NOW

PENDING = 100_000
HIGH = Risk.HIGH
FILL = text(
    """
    INSERT INTO ops.actions (id, kind, parameters, risk, state, rationale, requested_by,
        proposed_by, incident_id, decision_id, source_ref, approvals_required, created_at,
        updated_at, policy_id, policy, expires_at, assignee)
    SELECT gen_random_uuid(), 'kind_' || (n % 20), '{}'::jsonb, 'LOW', 'PENDING_APPROVAL', '',
        'rita', '{}'::jsonb, '', '', 'scale/' || n, 1,
        CAST(:now AS timestamptz) - n * interval '1 second',
        CAST(:now AS timestamptz), 'default', CAST(:policy AS jsonb),
        CAST(:now AS timestamptz) + interval '4 hours', 'user_' || (n % 50)
    FROM generate_series(1, :rows) AS n
    """
)


async def rows_read(session: AsyncSession, filters: Filters) -> tuple[int, str]:
    """How many rows the first page's plan touched, and the plan, as EXPLAIN ANALYZE says."""
    query = repository.listing_query(filters, 51, None)
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    explained = await session.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}"))
    plan = explained.scalar_one()[0]["Plan"]
    return _touched(plan), json.dumps(plan)


def _touched(node: dict[str, Any]) -> int:
    own = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
    scans = own if "Scan" in node["Node Type"] else 0
    return scans + sum(_touched(child) for child in node.get("Plans", []))


FILTERS = [
    Filters(),
    Filters(state=State.PENDING_APPROVAL),
    Filters(assignee="user_7", state=State.PENDING_APPROVAL),
    Filters(assignee="user_7"),
    Filters(kind="kind_3", state=State.PENDING_APPROVAL),
    Filters(risk=Risk.LOW, state=State.PENDING_APPROVAL),
    Filters(kind="kind_3"),
    Filters(risk=Risk.LOW),
]


async def test_a_filtered_first_page_reads_an_index_range_not_the_table(
    ops_owner_db: Database,
) -> None:
    policy = json.dumps({"id": "default", "role_requirements": []})
    async with ops_owner_db.transaction() as session:
        await session.execute(FILL, {"now": NOW.isoformat(), "policy": policy, "rows": PENDING})
        await session.execute(text(f"ANALYZE {actions.schema}.{actions.name}"))
        for filters in FILTERS:
            touched, plan = await rows_read(session, filters)
            assert touched < 5_000, (filters, plan)
            assert '"Node Type": "Sort"' not in plan
            assert "Seq Scan" not in plan
    page, token = await service.list_actions(ops_owner_db, filters=FILTERS[2], page_size=50)
    assert len(page) == 50
    assert token
    assert {a.assignee for a in page} == {"user_7"}


# 100,000 pending actions, and 100,000 executed ones all older (as decided actions are), over
# 20 kinds and 4 risks. Each state is half the table, so the planner takes a kind's (or a
# risk's) newest entries to be half executed; they are its pending actions, then the executed.
DECIDED = text(
    """
    INSERT INTO ops.actions (id, kind, parameters, risk, state, rationale, requested_by,
        proposed_by, incident_id, decision_id, source_ref, approvals_required, created_at,
        updated_at, policy_id, policy, expires_at)
    SELECT gen_random_uuid(), 'kind_' || (n % 20), '{}'::jsonb,
        (ARRAY['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'])[n % 4 + 1],
        CASE WHEN n <= :pending THEN 'PENDING_APPROVAL' ELSE 'EXECUTED' END, '', 'rita',
        '{}'::jsonb, '', '', 'decided-scale/' || n, 1,
        CAST(:now AS timestamptz) - n * interval '1 second', CAST(:now AS timestamptz),
        'default', CAST(:policy AS jsonb), CAST(:now AS timestamptz) + interval '4 hours'
    FROM generate_series(1, 2 * :pending) AS n
    """
)


async def test_a_decided_state_and_a_kind_or_risk_read_their_own_rows_not_newer_pending_ones(
    ops_owner_db: Database,
) -> None:
    policy = json.dumps({"id": "default", "role_requirements": []})
    fill = {"now": NOW.isoformat(), "policy": policy, "pending": PENDING}
    async with ops_owner_db.transaction() as session:
        await session.execute(DECIDED, fill)
        await session.execute(text(f"ANALYZE {actions.schema}.{actions.name}"))
        for state in (State.EXECUTED, State.PENDING_APPROVAL):
            for filters in (Filters(state=state, kind="kind_3"), Filters(state=state, risk=HIGH)):
                touched, plan = await rows_read(session, filters)
                assert touched <= 51, (filters, plan)  # the page and the one that says "more"
        for filters in (Filters(kind="kind_3"), Filters(risk=HIGH)):
            touched, plan = await rows_read(session, filters)  # each state's page, merged
            assert touched <= 51 * len(State), (filters, plan)
            assert '"Node Type": "Sort"' not in plan
    executed = Filters(state=State.EXECUTED, kind="kind_3")
    page, _ = await service.list_actions(ops_owner_db, filters=executed, page_size=50)
    assert {(a.state, a.kind) for a in page} == {(State.EXECUTED, "kind_3")}
    assert [a.created_at for a in page] == sorted((a.created_at for a in page), reverse=True)


async def test_a_kind_in_any_state_pages_as_one_list_newest_first(ops_owner_db: Database) -> None:
    """Each state's page merged is the same list, page after page, as the table ordered."""
    policy = json.dumps({"id": "default", "role_requirements": []})
    fill = {"now": NOW.isoformat(), "policy": policy, "pending": 40}
    async with ops_owner_db.transaction() as session:
        await session.execute(DECIDED, fill)
        wanted = await session.execute(
            text(
                "SELECT id::text FROM ops.actions WHERE kind = 'kind_3'"
                " ORDER BY created_at DESC, id DESC"
            )
        )
        expected = [row[0] for row in wanted]
    seen: list[str] = []
    token = ""
    while True:
        page, token = await service.list_actions(
            ops_owner_db, filters=Filters(kind="kind_3"), page_size=3, page_token=token
        )
        seen.extend(a.id for a in page)
        if not token:
            break
    assert seen == expected
