"""Replay proves determinism against the kept rule set version; admins put new versions, which
are validated, numbered, audited, and used from the next triage on."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from runtime.auth import Principal
from runtime.errors import Conflict, InvalidArgument, NotFound
from services.agent.tables import outbox
from services.agent.triage.domain.decisions import Decision
from services.agent.triage.domain.incidents import NewIncident
from services.agent.triage.domain.ruleset import BASELINE
from services.agent.triage.service import incidents as service
from services.agent.triage.service import rule_sets as rules_admin
from services.agent.triage.service.agent import Agent
from services.agent.triage.service.replay import replay_decision
from services.agent.triage.service.triage import triage_incident
from services.agent.triage.tables import decisions
from tests.agent.fakes import NOW, make_agent

Principals = Callable[..., Principal]
PNL = NewIncident("pnl-recon", "pnl_break", "eq-derivs", "EOD-PNL", "", {"abs_diff": 250000}, NOW)


@pytest.fixture
def agent(agent_db: Any) -> Agent:
    return make_agent(agent_db)


def version_two(**changes: Any) -> str:
    doc = json.loads(BASELINE.read_bytes())
    doc["version"] = 2
    for rule in doc["rules"]:
        if rule["id"] == "pnl-break":
            rule["threshold"] = 300000  # 250k is no longer a P2
    doc.update(changes)
    return json.dumps(doc, indent=2)


async def decided(agent: Agent, principal_for: Principals) -> Decision:
    caller = principal_for("alice", "trader")
    incident = await service.create_incident(agent.db, new=PNL, caller=caller, clock=agent.clock)
    return await triage_incident(agent, incident_id=incident.id, caller=caller)


async def audit_events(agent: Agent, action: str) -> list[dict[str, Any]]:
    async with agent.db.transaction() as session:
        rows = await session.execute(select(outbox.c.event).order_by(outbox.c.id))
        return [row.event for row in rows if row.event["action"] == action]


async def test_a_replay_reproduces_the_stored_output_and_is_audited(
    agent: Agent, principal_for: Principals
) -> None:
    decision = await decided(agent, principal_for)
    result = await replay_decision(
        agent, decision_id=decision.id, caller=principal_for("v", "viewer")
    )
    assert (result.identical, result.input_intact) == (True, True)
    assert (
        result.replayed_output_sha256
        == result.stored_output_sha256
        == decision.outcome.output_sha256
    )
    assert result.replayed.outcome == decision.outcome
    [event] = await audit_events(agent, "agent.triage.replayed")
    assert (event["outcome"], event["actor"]["subject"]) == ("success", "v")


async def test_a_decision_replays_with_its_own_version_after_the_rules_changed(
    agent: Agent, principal_for: Principals
) -> None:
    before = await decided(agent, principal_for)
    admin = principal_for("root", "admin")
    stored = await rules_admin.put_rule_set(
        agent, document=version_two(), reason="raise the P&L break threshold", caller=admin
    )
    assert stored.version == 2
    assert stored.logic_version.startswith("2+")
    after = await decided(agent, principal_for)
    assert (before.outcome.severity, after.outcome.severity) == ("P2", "P3")
    assert after.logic_version == stored.logic_version
    result = await replay_decision(agent, decision_id=before.id, caller=admin)
    assert (result.identical, result.replayed.outcome.severity) == (True, "P2")
    [event] = await audit_events(agent, "agent.ruleset.updated")
    assert (event["actor"]["subject"], event["target"]) == ("root", "ruleset/2")
    assert '"reason":"raise the P&L break threshold"' in event["payload_json"]


async def test_a_tampered_decision_record_does_not_replay_identically(
    agent: Agent, principal_for: Principals
) -> None:
    decision = await decided(agent, principal_for)
    async with agent.db.transaction() as session:
        await session.execute(
            update(decisions).where(decisions.c.id == decision.id).values(output_sha256="0" * 64)
        )
    result = await replay_decision(
        agent, decision_id=decision.id, caller=principal_for("v", "viewer")
    )
    assert (result.identical, result.input_intact) == (False, True)
    [event] = await audit_events(agent, "agent.triage.replayed")
    assert event["outcome"] == "failure"


async def test_replaying_an_unknown_decision_is_not_found(
    agent: Agent, principal_for: Principals
) -> None:
    with pytest.raises(NotFound):
        await replay_decision(agent, decision_id="not-a-uuid", caller=principal_for("v", "viewer"))


@pytest.mark.parametrize(
    ("document", "reason", "refusal", "message"),
    [
        (version_two(version=3), "skip", Conflict, "version must be 2"),
        (version_two(version=1), "again", Conflict, "version must be 2"),
        ('{"name": "x"', "broken", InvalidArgument, "not a valid rule set"),
        ('{"version": 2}', "empty", InvalidArgument, "refused: a rule set: 'rules' is missing"),
        (version_two().replace('"P1"', '"P0"', 1), "typo", InvalidArgument, "severity 'P0'"),
        (version_two(), "  ", InvalidArgument, "a reason"),
    ],
)
async def test_a_bad_rule_set_is_refused_and_the_refusal_audited(
    agent: Agent,
    principal_for: Principals,
    document: str,
    reason: str,
    refusal: type[Exception],
    message: str,
) -> None:
    with pytest.raises(refusal, match=message):
        await rules_admin.put_rule_set(
            agent, document=document, reason=reason, caller=principal_for("root", "admin")
        )
    [event] = await audit_events(agent, "agent.ruleset.updated")
    assert (event["outcome"], event["actor"]["subject"]) == ("denied", "root")
    stored, active = await rules_admin.get_rule_set(agent, version=0)
    assert (stored.version, active) == (1, 1)


async def test_the_kept_versions_are_listed_newest_first_with_the_shipped_file_as_version_one(
    agent: Agent, principal_for: Principals
) -> None:
    admin = principal_for("root", "admin")
    await rules_admin.put_rule_set(agent, document=version_two(), reason="r", caller=admin)
    listed = await rules_admin.list_rule_sets(agent)
    assert [(s.version, s.created_by) for s in listed] == [(2, "root"), (1, "agent")]
    shipped, _ = await rules_admin.get_rule_set(agent, version=1)
    assert shipped.document.encode() == BASELINE.read_bytes()
