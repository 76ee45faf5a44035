"""Incident intake and triage use cases on the real agent schema, with ops faked."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from runtime.auth import Principal
from runtime.canonical import canonical_json, sha256_hex
from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound, PermissionDenied
from services.agent.tables import outbox
from services.agent.triage.domain.decisions import snapshot
from services.agent.triage.domain.incidents import Incident, NewIncident
from services.agent.triage.domain.ruleset import load_rule_set
from services.agent.triage.service import incidents as service
from services.agent.triage.service.agent import Agent
from services.agent.triage.service.proposals import deliver_pending_proposals
from services.agent.triage.service.triage import get_decision, triage_incident
from tests.agent.fakes import NOW, FakeProposer, list_incidents, make_agent

RULES = load_rule_set()
Principals = Callable[..., Principal]
SETUP = ("agent.incident.created", "agent.ruleset.seeded")


def report(kind: str = "market_data_latency", **metrics: float) -> NewIncident:
    return NewIncident(
        source="md-gateway-ny4",
        kind=kind,
        desk="eq-cash",
        subject="XNAS-ITCH",
        summary="ITCH feed lagging",
        metrics=metrics or {"latency_ms": 2500.0},
        observed_at=NOW,
    )


@pytest.fixture
def ops() -> FakeProposer:
    return FakeProposer()


@pytest.fixture
def agent(agent_db: Database, ops: FakeProposer) -> Agent:
    return make_agent(agent_db, ops)


async def reported(agent: Agent, principal_for: Principals, new: NewIncident) -> Incident:
    return await service.create_incident(
        agent.db, new=new, caller=principal_for("svc:md", "service"), clock=agent.clock
    )


async def events(db: Database) -> list[dict[str, Any]]:
    async with db.transaction() as session:
        rows = await session.execute(select(outbox.c.event).order_by(outbox.c.id))
        return [row.event for row in rows]


async def decision_events(db: Database) -> list[dict[str, Any]]:
    return [e for e in await events(db) if e["action"] not in SETUP]


async def test_a_reported_incident_is_stored_and_audited(
    agent: Agent, principal_for: Principals
) -> None:
    incident = await reported(agent, principal_for, report())
    assert incident.created_by == "svc:md"
    assert await service.get_incident(agent, incident_id=incident.id) == incident
    [event] = await events(agent.db)
    assert (event["action"], event["target"]) == (
        "agent.incident.created",
        f"incident/{incident.id}",
    )
    assert event["actor"]["subject"] == "svc:md"


async def test_an_invalid_incident_is_not_stored(agent: Agent, principal_for: Principals) -> None:
    with pytest.raises(InvalidArgument):
        await reported(agent, principal_for, report(kind="weather"))
    assert await list_incidents(agent.db, limit=0) == []
    assert await events(agent.db) == []


async def test_incidents_are_listed_newest_first(agent: Agent, principal_for: Principals) -> None:
    first = await reported(agent, principal_for, report())
    agent.clock.advance(seconds=1)  # type: ignore[attr-defined]
    second = await reported(agent, principal_for, report("recon_break", breaks=2))
    listed = await list_incidents(agent.db, limit=10)
    assert [i.id for i in listed] == [second.id, first.id]
    assert [i.id for i in await list_incidents(agent.db, limit=1)] == [second.id]
    with pytest.raises(InvalidArgument):
        await list_incidents(agent.db, limit=-1)


async def test_a_triage_decision_is_stored_with_its_input_hash_and_logic_version(
    agent: Agent, ops: FakeProposer, principal_for: Principals
) -> None:
    incident = await reported(agent, principal_for, report())
    decision = await triage_incident(
        agent, incident_id=incident.id, caller=principal_for("alice", "trader")
    )
    stored = await get_decision(agent, decision_id=decision.id)
    assert stored == decision
    assert stored.outcome.input_sha256 == sha256_hex(canonical_json(snapshot(incident)))
    assert (stored.logic_name, stored.logic_version) == ("baseline", RULES.logic_version)
    assert (stored.outcome.severity, stored.requested_by, stored.action_id) == (
        "P1",
        "alice",
        "act-1",
    )
    assert stored.outcome.output_sha256 == decision.outcome.output_sha256 != ""
    [proposal] = ops.proposals
    assert (proposal.source_ref, proposal.requested_by) == (f"decision/{decision.id}", "alice")


async def test_triage_writes_decided_and_proposed_events_as_the_agent(
    agent: Agent, principal_for: Principals
) -> None:
    incident = await reported(agent, principal_for, report())
    decision = await triage_incident(
        agent, incident_id=incident.id, caller=principal_for("alice", "trader")
    )
    decided, proposed = await decision_events(agent.db)
    assert decided["action"] == "agent.triage.decided"
    assert proposed["action"] == "agent.remediation.proposed"
    for event in (decided, proposed):
        assert event["target"] == f"decision/{decision.id}"
        assert event["actor"]["subject"] == "agent-triage/baseline"
        assert event["actor"]["logic_version"] == RULES.logic_version
        assert '"requested_by":"alice"' in event["payload_json"]
    assert '"action_id":"act-1"' in proposed["payload_json"]


async def test_the_shipped_rule_set_is_stored_as_version_one_when_first_needed(
    agent: Agent, principal_for: Principals
) -> None:
    incident = await reported(agent, principal_for, report())
    await triage_incident(agent, incident_id=incident.id, caller=principal_for("a", "ops"))
    seeded = [e for e in await events(agent.db) if e["action"] == "agent.ruleset.seeded"]
    assert [e["target"] for e in seeded] == ["ruleset/1"]


async def test_a_decision_without_remediation_proposes_nothing(
    agent: Agent, ops: FakeProposer, principal_for: Principals
) -> None:
    incident = await reported(agent, principal_for, report(latency_ms=40))
    decision = await triage_incident(
        agent, incident_id=incident.id, caller=principal_for("alice", "ops")
    )
    assert (decision.outcome.severity, decision.action_id) == ("P4", None)
    assert ops.proposals == []
    later = NOW + timedelta(days=1)
    assert await deliver_pending_proposals(agent.db, ops, now=later) == 0


async def test_when_ops_is_down_the_decision_is_kept_and_the_retry_delivers_it(
    agent: Agent, ops: FakeProposer, principal_for: Principals
) -> None:
    incident = await reported(agent, principal_for, report("fix_session_down"))
    ops.down = True
    decision = await triage_incident(
        agent, incident_id=incident.id, caller=principal_for("bob", "trader")
    )
    assert decision.action_id is None
    assert (await get_decision(agent, decision_id=decision.id)).action_id is None
    assert (await events(agent.db))[-1]["outcome"] == "failure"

    ops.down = False
    # The first attempt's backoff runs from the wall clock, not the test's.
    soon = decision.created_at.replace(year=2000)
    assert await deliver_pending_proposals(agent.db, ops, now=soon) == 0  # backing off
    much_later = decision.created_at.replace(year=2100)
    assert await deliver_pending_proposals(agent.db, ops, now=much_later) == 1
    assert (await get_decision(agent, decision_id=decision.id)).action_id == "act-1"
    assert ops.proposals[0].requested_by == "bob"
    assert await deliver_pending_proposals(agent.db, ops, now=much_later) == 0


async def test_a_retry_pass_that_finds_ops_down_leaves_the_other_due_proposals_untouched(
    agent: Agent, ops: FakeProposer, principal_for: Principals
) -> None:
    ops.down = True
    for desk in ("rates", "fx", "credit"):  # three desks: three incidents, not one folded
        fresh = dataclasses.replace(report("fix_session_down"), desk=desk)
        incident = await reported(agent, principal_for, fresh)
        await triage_incident(agent, incident_id=incident.id, caller=principal_for("bob", "trader"))
    failures = len([e for e in await events(agent.db) if e["outcome"] == "failure"])
    ops.calls = 0
    much_later = NOW.replace(year=2100)
    assert await deliver_pending_proposals(agent.db, ops, now=much_later) == 0
    assert ops.calls == 1  # the pass ended at the first "unreachable"
    after = len([e for e in await events(agent.db) if e["outcome"] == "failure"])
    assert after == failures + 1

    ops.down = False  # the two left untouched are still due: one pass delivers them
    assert await deliver_pending_proposals(agent.db, ops, now=much_later) == 2


async def test_triaging_an_unknown_incident_is_not_found(
    agent: Agent, principal_for: Principals
) -> None:
    for missing in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        with pytest.raises(NotFound):
            await triage_incident(
                agent, incident_id=missing, caller=principal_for("alice", "trader")
            )
        with pytest.raises(NotFound):
            await get_decision(agent, decision_id=missing)


async def test_only_a_service_triages_on_behalf_of_someone_else(
    agent: Agent, ops: FakeProposer, principal_for: Principals
) -> None:
    incident = await reported(agent, principal_for, report())
    with pytest.raises(PermissionDenied, match="only the agent"):
        await triage_incident(
            agent,
            incident_id=incident.id,
            caller=principal_for("mallory", "trader"),
            requested_by="alice",
        )
    assert await decision_events(agent.db) == []
    assert ops.proposals == []

    decision = await triage_incident(
        agent,
        incident_id=incident.id,
        caller=principal_for("probe:x@v1", "service"),
        requested_by="alice",
    )
    assert decision.requested_by == "alice"
    [proposal] = ops.proposals
    assert proposal.requested_by == "alice"
