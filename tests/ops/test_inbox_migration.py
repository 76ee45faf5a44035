"""0010_ops_inbox: the backfill gives each pending action the approvable_by the service itself
writes (the same domain function), and every other action none."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from runtime.db import Database
from services.ops.domain.actions import Risk
from services.ops.service import lifecycle
from services.ops.service import proposals as service
from tests.ops.helpers import later, person, propose

MIGRATION = Path("services/ops/migrations/versions/0010_inbox.py")
OLGA, CARL = person("olga", "ops"), person("carl", "compliance")
STORED = text("SELECT id::text, approvable_by FROM ops.actions WHERE id::text = ANY(:ids)")


def migration(repo_root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("ops_0010", repo_root / MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_backfill_writes_what_the_service_writes(
    ops_db: Database, repo_root: Path
) -> None:
    risks = (Risk.LOW, Risk.CRITICAL, Risk.HIGH, Risk.HIGH, Risk.LOW)
    fresh, critical, high, edited, decided = [await propose(ops_db, risk) for risk in risks]
    await service.approve(ops_db, action_id=critical.id, approver=OLGA, now=later(5))
    await service.approve(ops_db, action_id=high.id, approver=CARL, now=later(6))
    await service.approve(ops_db, action_id=edited.id, approver=OLGA, now=later(7))
    await lifecycle.update_parameters(
        ops_db, action_id=edited.id, actor=CARL, parameters={}, reason="r", now=later(8)
    )
    await service.approve(ops_db, action_id=decided.id, approver=OLGA, now=later(9))
    ids = [a.id for a in (fresh, critical, high, edited, decided)]
    revision = migration(repo_root)

    def backfill(session: Session) -> None:
        connection: Connection = session.connection()
        connection.execute(text("UPDATE ops.actions SET approvable_by = '{}'"))
        for rows in revision.pending(connection):
            revision.backfill(connection, rows)

    async with ops_db.transaction() as session:
        written = dict((await session.execute(STORED, {"ids": ids})).tuples().all())
        await session.run_sync(backfill)
        backfilled = dict((await session.execute(STORED, {"ids": ids})).tuples().all())

    assert backfilled == written
    assert [written[i] for i in ids] == [
        ["admin", "compliance", "ops"],
        ["admin", "compliance"],  # ops filled its slot, compliance's is open
        ["admin", "compliance", "ops"],  # compliance in; one more from anyone
        ["admin", "compliance", "ops"],  # a new parameters version: nobody voted on it
        [],  # approved
    ]
