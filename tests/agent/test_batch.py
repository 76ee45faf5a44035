"""TriageBatch creates and triages many incidents in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument
from services.agent.triage.domain.incidents import NewIncident
from services.agent.triage.service import incidents as service
from services.agent.triage.service.batch import MAX_BATCH, triage_batch
from services.agent.triage.service.proposals import deliver_pending_proposals
from services.agent.triage.service.triage import get_decision
from services.agent.triage.tables import decisions, incidents
from tests.agent.fakes import NOW, FakeProposer, make_agent

Principals = Callable[..., Principal]
FEED = NewIncident(
    "md-gw", "market_data_latency", "eq-cash", "XNAS-ITCH", "", {"latency_ms": 2400}, NOW
)
ALGO = NewIncident(
    "algo-mon",
    "runaway_algo",
    "eq-cash",
    "momo-7",
    "",
    {"orders_per_s": 900, "orders_per_s_limit": 200},
    NOW,
)


async def count(db: Database, table: Any) -> int:
    async with db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def test_each_report_gets_its_incident_and_decision_in_order(
    agent_db: Database, principal_for: Principals
) -> None:
    agent = make_agent(agent_db)
    items = await triage_batch(
        agent, reports=[FEED, ALGO], caller=principal_for("svc:desk", "service")
    )
    assert [(i.kind, d.outcome.severity if d else None) for i, d in items] == [
        ("market_data_latency", "P1"),
        ("runaway_algo", "P1"),
    ]
    for incident, decision in items:
        assert decision is not None
        assert decision.incident_id == incident.id
        assert await get_decision(agent, decision_id=decision.id) == decision
    assert (await count(agent_db, incidents), await count(agent_db, decisions)) == (2, 2)


async def test_a_repeat_inside_the_batch_is_folded_and_not_triaged_again(
    agent_db: Database, principal_for: Principals
) -> None:
    agent = make_agent(agent_db)
    repeat = replace(FEED, metrics={"latency_ms": 2600})
    items = await triage_batch(
        agent, reports=[FEED, repeat], caller=principal_for("svc:d", "service")
    )
    (first, decided), (folded, none) = items
    assert (folded.id, folded.deduplicated, folded.occurrences, none) == (first.id, True, 2, None)
    assert decided is not None
    stored = await service.get_incident(agent, incident_id=first.id)
    assert stored.occurrences == 2


async def test_one_bad_report_refuses_the_whole_batch(
    agent_db: Database, principal_for: Principals
) -> None:
    agent = make_agent(agent_db)
    with pytest.raises(InvalidArgument, match="incident 1: kind 'weather'"):
        await triage_batch(
            agent, reports=[FEED, replace(FEED, kind="weather")], caller=principal_for("a", "ops")
        )
    assert await count(agent_db, incidents) == 0


@pytest.mark.parametrize("size", [0, MAX_BATCH + 1])
async def test_a_batch_holds_one_to_a_thousand_reports(
    agent_db: Database, principal_for: Principals, size: int
) -> None:
    with pytest.raises(InvalidArgument, match="a batch holds 1 to 1000"):
        await triage_batch(
            make_agent(agent_db), reports=[FEED] * size, caller=principal_for("a", "ops")
        )


async def test_batch_decisions_reach_ops_through_the_retry_worker(
    agent_db: Database, principal_for: Principals
) -> None:
    ops = FakeProposer()
    agent = make_agent(agent_db, ops)
    [(_, decision)] = await triage_batch(agent, reports=[ALGO], caller=principal_for("ann", "ops"))
    assert decision is not None
    assert ops.proposals == []
    assert await deliver_pending_proposals(agent_db, ops, now=NOW) == 1
    [proposal] = ops.proposals
    assert (proposal.recommendation.action, proposal.requested_by) == (
        "disable_strategy_kill_switch",
        "ann",
    )
