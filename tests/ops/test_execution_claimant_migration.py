"""0009_ops_execution_claimant: the backfill names the claimant of each action already claimed,
from its first execution timeline entry, so the agent still reports what it claimed before the
upgrade and a person still cannot. (The migrated table is compared with services.ops.tables in
test_parameters_author_migration.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import text

from runtime.db import Database
from runtime.errors import PermissionDenied
from services.ops.domain.actions import Action, State
from services.ops.service import execution
from services.ops.service import proposals as service
from tests.ops.helpers import AGENT_PRINCIPAL, later, person, propose

MIGRATION = Path("services/ops/migrations/versions/0009_execution_claimant.py")
OTTO = person("otto", "ops")


async def approved(db: Database) -> Action:
    action = await propose(db)
    return await service.approve(
        db, action_id=action.id, approver=person("olga", "ops"), now=later(60)
    )


async def test_the_backfill_takes_the_claimant_from_the_timeline_else_leaves_it_unknown(
    ops_db: Database, repo_root: Path
) -> None:
    spec = importlib.util.spec_from_file_location("ops_0010", repo_root / MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    by_agent, by_hand, untraced, waiting = [await approved(ops_db) for _ in range(4)]
    for action, who, name in ((by_agent, AGENT_PRINCIPAL, "sim"), (by_hand, OTTO, ""),
                              (untraced, AGENT_PRINCIPAL, "sim")):  # fmt: skip
        await execution.start_execution(
            ops_db, action_id=action.id, actor=who, executor=name, now=later(70)
        )
    await execution.record_result(
        ops_db, action_id=by_agent.id, actor=AGENT_PRINCIPAL, outcome=State.FAILED, detail="no",
        now=later(80),
    )  # fmt: skip
    ids = [by_agent.id, by_hand.id, untraced.id, waiting.id]
    async with ops_db.transaction() as session:
        await session.execute(text("UPDATE ops.actions SET claimed_by = ''"))
        await session.execute(
            text("DELETE FROM ops.timeline WHERE action_id = :id AND kind = 'execution'"),
            {"id": untraced.id},
        )
        await session.execute(text(revision.BACKFILL))
        rows = await session.execute(
            text("SELECT id::text, claimed_by FROM ops.actions WHERE id::text = ANY(:ids)"),
            {"ids": ids},
        )
        claimants = dict(rows.tuples().all())
    assert [claimants[i] for i in ids] == ["service:svc:agent", "person:otto", "", ""]
    # With no claimant on record, the executor service still reports; people still wait.
    with pytest.raises(PermissionDenied, match="people resolve it once it is OUTCOME_UNKNOWN"):
        await execution.record_result(
            ops_db, action_id=untraced.id, actor=OTTO, outcome=State.EXECUTED, detail="ok",
            now=later(85),
        )  # fmt: skip
    done = await execution.record_result(
        ops_db, action_id=untraced.id, actor=AGENT_PRINCIPAL, outcome=State.EXECUTED, detail="",
        now=later(90),
    )  # fmt: skip
    assert done.state is State.EXECUTED
