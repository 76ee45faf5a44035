"""A kind is accepted exactly when the active rule set declares it: a published version (audited
as agent.ruleset.updated) makes intake, the batch intake, probes and triggers take a new kind at
once, on any replica; a rule set naming an undeclared kind or metric is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from runtime.auth import Principal
from runtime.errors import InvalidArgument
from services.agent.probes.domain.probes import ProbeSpec
from services.agent.triage.domain.incidents import NewIncident
from services.agent.triage.domain.ruleset import BASELINE
from services.agent.triage.service import batch
from services.agent.triage.service import incidents as service
from services.agent.triage.service import rule_sets as rules_admin
from services.agent.triage.service.agent import Agent
from services.agent.triage.service.triage import triage_incident
from services.agent.workflows.service import defaults
from services.agent.workflows.service import rules as triggers
from tests.agent.fakes import NOW, make_agent
from tests.agent.probes.helpers import Clock, latency_probe, put
from tests.agent.test_replay_and_rule_sets import audit_events

Principals = Callable[..., Principal]
MARGIN = NewIncident(
    "clearing", "margin_call", "rates", "LCH-SWAPCLEAR", "", {"call_eur": 3e7}, NOW
)
RULE = {
    "id": "margin-call-large",
    "kind": "margin_call",
    "metric": "call_eur",
    "comparison": ">=",
    "threshold": 10000000,
    "severity": "P2",
    "category": "clearing",
    "confidence": 0.8,
    "explanation": "a clearing house calls ten million or more in margin",
}


@pytest.fixture
def agent(agent_db: Any) -> Agent:
    return make_agent(agent_db)


def version_two(rule: dict[str, Any], metrics: list[str]) -> str:
    doc = json.loads(BASELINE.read_bytes())
    doc["version"] = 2
    doc["kinds"]["margin_call"] = {"description": "A clearer calls margin.", "metrics": metrics}
    doc["rules"].append(rule)
    return json.dumps(doc, indent=2)


async def publish(agent: Agent, principal_for: Principals, document: str) -> None:
    admin = principal_for("root", "admin")
    await rules_admin.put_rule_set(agent, document=document, reason="clearing desk", caller=admin)


async def report(agent: Agent, principal_for: Principals, new: NewIncident = MARGIN) -> str:
    caller = principal_for("alice", "trader")
    created = await service.create_incident(agent.db, new=new, caller=caller, clock=agent.clock)
    return created.id


async def test_an_undeclared_kind_is_refused_naming_the_allowed_kinds(
    agent: Agent, principal_for: Principals
) -> None:
    allowed = "is not one of: market_data_latency, stale_price, order_reject_spike"
    with pytest.raises(InvalidArgument, match=f"kind 'margin_call' {allowed}"):
        await report(agent, principal_for)
    reports, caller = [replace(MARGIN, kind="pnl_break"), MARGIN], principal_for("alice", "trader")
    with pytest.raises(InvalidArgument, match=f"incident 1: kind 'margin_call' {allowed}"):
        await batch.triage_batch(agent, reports=reports, caller=caller)


async def test_a_published_kind_is_taken_in_and_triaged_by_its_rule_on_any_replica(
    agent: Agent, principal_for: Principals
) -> None:
    await publish(agent, principal_for, version_two(RULE, ["call_eur"]))
    [event] = await audit_events(agent, "agent.ruleset.updated")
    assert (event["outcome"], event["target"]) == ("success", "ruleset/2")

    decision = await triage_incident(
        agent, incident_id=await report(agent, principal_for), caller=principal_for("a", "trader")
    )
    assert [hit.rule_id for hit in decision.outcome.rules_fired] == ["margin-call-large"]
    assert (decision.outcome.severity, decision.logic_version[:2]) == ("P2", "2+")
    replica = make_agent(agent.db)  # another process: its own rule book, nothing cached
    caller = principal_for("bob", "trader")
    other = replace(MARGIN, subject="EUREX-CLEARING")
    [(_, triaged)] = await batch.triage_batch(replica, reports=[other], caller=caller)
    assert triaged is not None
    assert triaged.outcome.winning_rule == "margin-call-large"


@pytest.mark.parametrize(
    ("rule", "metrics", "message"),
    [
        ({**RULE, "kind": "margin_cal"}, ["call_eur"], "kind 'margin_cal' is not declared"),
        (RULE, ["call_usd"], "metric 'call_eur' is neither a metric of kind 'margin_call'"),
    ],
)
async def test_a_rule_set_naming_an_undeclared_kind_or_metric_is_refused_and_changes_nothing(
    agent: Agent, principal_for: Principals, rule: dict[str, Any], metrics: list[str], message: str
) -> None:
    with pytest.raises(
        InvalidArgument, match=f"rule set refused: rule margin-call-large: {message}"
    ):
        await publish(agent, principal_for, version_two(rule, metrics))
    [event] = await audit_events(agent, "agent.ruleset.updated")
    assert event["outcome"] == "denied"
    stored, active = await rules_admin.get_rule_set(agent, version=0)
    assert (stored.version, active) == (1, 1)
    with pytest.raises(InvalidArgument, match="kind 'margin_call' is not one of"):
        await report(agent, principal_for)


def margin_probe(spec: ProbeSpec) -> ProbeSpec:
    return replace(spec, incident=replace(spec.incident, kind="margin_call"))


async def test_probes_and_triggers_take_a_kind_once_a_rule_set_declares_it(
    agent: Agent, principal_for: Principals
) -> None:
    probe, clock = margin_probe(latency_probe("http://127.0.0.1:9")), Clock()
    entry = {
        "name": "margin-calls",
        "match": {"action": "ops.action.rejected"},
        "step": {"kind": "open_incident", "parameters": {"kind": "margin_call"}},
        "reason": "tell clearing",
    }
    admin = principal_for("ada", "admin")

    async def define_trigger() -> None:
        await triggers.put_rule(
            agent.db,
            rule_id="",
            definition=defaults.definition(entry),
            caller=admin,
            webhooks=(),
            clock=clock,
        )

    with pytest.raises(InvalidArgument, match="incident kind 'margin_call' is not one of"):
        await put(agent.db, probe, clock)
    with pytest.raises(InvalidArgument, match="incident kind 'margin_call' is not one of"):
        await define_trigger()
    await publish(agent, principal_for, version_two(RULE, ["call_eur"]))
    assert (await put(agent.db, probe, clock)).spec.incident.kind == "margin_call"
    await define_trigger()


async def test_a_version_that_withdraws_a_kind_is_refused_and_changes_nothing(
    agent: Agent, principal_for: Principals
) -> None:
    doc = json.loads(BASELINE.read_bytes())
    doc["version"] = 2
    del doc["kinds"]["compliance_violation"]
    doc["rules"] = [r for r in doc["rules"] if r["kind"] != "compliance_violation"]

    with pytest.raises(InvalidArgument, match=r"withdraws kinds .*\(compliance_violation\)"):
        await publish(agent, principal_for, json.dumps(doc))

    [event] = await audit_events(agent, "agent.ruleset.updated")
    assert event["outcome"] == "denied"
    stored, active = await rules_admin.get_rule_set(agent, version=0)
    assert (stored.version, active) == (1, 1)
    created = await defaults.ensure(agent.db, Clock())
    assert {rule.name for rule in created} == {d.name for d in defaults.shipped()}
