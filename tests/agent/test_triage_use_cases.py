"""Incident intake and triage use cases on the real agent schema, with ops faked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from runtime.auth import Principal
from runtime.canonical import canonical_json, sha256_hex
from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound
from services.agent import service
from services.agent.domain import snapshot
from services.agent.incidents import Incident, NewIncident
from services.agent.proposals import deliver_pending_proposals
from services.agent.ruleset import load_rule_set
from services.agent.tables import outbox
from tests.agent.fakes import FakeProposer

RULES = load_rule_set()
Principals = Callable[..., Principal]


def report(kind: str = "market_data_latency", **metrics: float) -> NewIncident:
    return NewIncident(
        source="md-gateway-ny4",
        kind=kind,
        desk="eq-cash",
        subject="XNAS-ITCH",
        summary="ITCH feed lagging",
        metrics=metrics or {"latency_ms": 2500.0},
        observed_at=datetime(2026, 11, 3, 14, 30, tzinfo=UTC),
    )


async def reported(db: Database, principal_for: Principals, new: NewIncident) -> Incident:
    return await service.create_incident(db, new=new, caller=principal_for("md-gw", "service"))


async def events(db: Database) -> list[dict[str, Any]]:
    async with db.transaction() as session:
        rows = await session.execute(select(outbox.c.event).order_by(outbox.c.id))
        return [row.event for row in rows]


async def test_a_reported_incident_is_stored_and_audited(
    agent_db: Database, principal_for: Principals
) -> None:
    incident = await reported(agent_db, principal_for, report())
    assert incident.created_by == "md-gw"
    assert await service.get_incident(agent_db, incident_id=incident.id) == incident
    [event] = await events(agent_db)
    assert (event["action"], event["target"]) == (
        "agent.incident.created",
        f"incident/{incident.id}",
    )
    assert event["actor"]["subject"] == "md-gw"


async def test_an_invalid_incident_is_not_stored(
    agent_db: Database, principal_for: Principals
) -> None:
    with pytest.raises(InvalidArgument):
        await reported(agent_db, principal_for, report(kind="weather"))
    assert await service.list_incidents(agent_db, limit=0) == []
    assert await events(agent_db) == []


async def test_incidents_are_listed_newest_first(
    agent_db: Database, principal_for: Principals
) -> None:
    first = await reported(agent_db, principal_for, report())
    second = await reported(agent_db, principal_for, report("recon_break", breaks=2))
    assert await service.list_incidents(agent_db, limit=10) == [second, first]
    assert await service.list_incidents(agent_db, limit=1) == [second]
    with pytest.raises(InvalidArgument):
        await service.list_incidents(agent_db, limit=-1)


async def test_a_triage_decision_is_stored_with_its_input_hash_and_logic_version(
    agent_db: Database, principal_for: Principals
) -> None:
    incident = await reported(agent_db, principal_for, report())
    ops = FakeProposer()
    decision = await service.triage_incident(
        agent_db, ops, incident_id=incident.id, caller=principal_for("alice", "trader"), rules=RULES
    )
    stored = await service.get_decision(agent_db, decision_id=decision.id)
    assert stored == decision
    assert stored.outcome.input_sha256 == sha256_hex(canonical_json(snapshot(incident)))
    assert (stored.logic_name, stored.logic_version) == ("baseline", RULES.logic_version)
    assert (stored.outcome.severity, stored.requested_by, stored.action_id) == (
        "P1",
        "alice",
        "act-1",
    )
    [proposal] = ops.proposals
    assert (proposal.source_ref, proposal.requested_by) == (f"decision/{decision.id}", "alice")


async def test_triage_writes_decided_and_proposed_events_as_the_agent(
    agent_db: Database, principal_for: Principals
) -> None:
    incident = await reported(agent_db, principal_for, report())
    decision = await service.triage_incident(
        agent_db, FakeProposer(), incident_id=incident.id,
        caller=principal_for("alice", "trader"), rules=RULES,
    )  # fmt: skip
    _, decided, proposed = await events(agent_db)
    assert decided["action"] == "agent.triage.decided"
    assert proposed["action"] == "agent.remediation.proposed"
    for event in (decided, proposed):
        assert event["target"] == f"decision/{decision.id}"
        assert event["actor"]["subject"] == "agent-triage/baseline"
        assert event["actor"]["logic_version"] == RULES.logic_version
        assert '"requested_by":"alice"' in event["payload_json"]
    assert '"action_id":"act-1"' in proposed["payload_json"]


async def test_a_decision_without_remediation_proposes_nothing(
    agent_db: Database, principal_for: Principals
) -> None:
    incident = await reported(agent_db, principal_for, report(latency_ms=40))
    ops = FakeProposer()
    decision = await service.triage_incident(
        agent_db, ops, incident_id=incident.id, caller=principal_for("alice", "ops"), rules=RULES
    )
    assert (decision.outcome.severity, decision.action_id) == ("P4", None)
    assert ops.proposals == []
    assert (
        await deliver_pending_proposals(agent_db, ops, now=datetime.now(UTC) + timedelta(days=1))
        == 0
    )


async def test_when_ops_is_down_the_decision_is_kept_and_the_retry_delivers_it(
    agent_db: Database, principal_for: Principals
) -> None:
    incident = await reported(agent_db, principal_for, report("fix_session_down"))
    ops = FakeProposer(down=True)
    decision = await service.triage_incident(
        agent_db, ops, incident_id=incident.id, caller=principal_for("bob", "trader"), rules=RULES
    )
    assert decision.action_id is None
    assert (await service.get_decision(agent_db, decision_id=decision.id)).action_id is None
    assert (await events(agent_db))[-1]["outcome"] == "failure"

    ops.down = False
    assert await deliver_pending_proposals(agent_db, ops, now=datetime.now(UTC)) == 0  # backing off
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await deliver_pending_proposals(agent_db, ops, now=later) == 1
    assert (await service.get_decision(agent_db, decision_id=decision.id)).action_id == "act-1"
    assert ops.proposals[0].requested_by == "bob"
    assert await deliver_pending_proposals(agent_db, ops, now=later) == 0


async def test_triaging_an_unknown_incident_is_not_found(
    agent_db: Database, principal_for: Principals
) -> None:
    for missing in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        with pytest.raises(NotFound):
            await service.triage_incident(
                agent_db, FakeProposer(), incident_id=missing,
                caller=principal_for("alice", "trader"), rules=RULES,
            )  # fmt: skip
        with pytest.raises(NotFound):
            await service.get_decision(agent_db, decision_id=missing)
