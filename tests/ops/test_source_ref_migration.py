"""0008_ops_source_ref_per_proposer: the backfill gives each existing action the proposer that
Action.proposer computes, so the agent's re-proposal after the upgrade finds its action. (The
migrated table is compared with services.ops.tables in test_parameters_author_migration.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import text

from runtime.db import Database
from services.ops.service import proposals as service
from tests.ops.helpers import NOW, person, proposal, propose

MIGRATION = Path("services/ops/migrations/versions/0008_source_ref_per_proposer.py")


async def test_the_backfill_names_the_proposer_the_agent_will_look_up(
    ops_db: Database, repo_root: Path
) -> None:
    spec = importlib.util.spec_from_file_location("ops_0008", repo_root / MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    agents = await propose(ops_db, source_ref="decision/before")
    olgas = await service.propose(
        ops_db, proposal=proposal(source_ref="decision/x"), proposer=person("olga", "ops"), now=NOW
    )
    async with ops_db.transaction() as session:
        await session.execute(text("UPDATE ops.actions SET proposer = ''"))
        await session.execute(text(revision.BACKFILL))
        rows = await session.execute(text("SELECT id::text, proposer FROM ops.actions"))
        proposers = dict(rows.tuples().all())
    assert proposers[agents.id] == agents.proposer == "agent:triage-agent"
    assert proposers[olgas.id] == olgas.proposer == "person:olga"
    assert (await propose(ops_db, source_ref="decision/before")).id == agents.id
