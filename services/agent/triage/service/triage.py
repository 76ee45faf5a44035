"""Triage use cases: an incident triaged with the active rule set (the decision stored and
audited in one transaction, its proposal to ops following), a decision read back."""

from __future__ import annotations

import uuid
from datetime import datetime

from runtime.auth import Principal
from runtime.errors import NotFound
from services.agent.triage.domain.decisions import Decision, RuleSet, snapshot
from services.agent.triage.domain.incidents import Incident
from services.agent.triage.domain.triage import Timer, triage
from services.agent.triage.repository import decisions as decision_rows
from services.agent.triage.repository.outbox import Event, record_events
from services.agent.triage.service.agent import Agent
from services.agent.triage.service.incidents import find_incident
from services.agent.triage.service.proposals import automation_actor, deliver


async def get_decision(agent: Agent, *, decision_id: str) -> Decision:
    async with agent.db.transaction() as session:
        decision = await decision_rows.get_decision(session, decision_id)
    if decision is None:
        raise NotFound(f"no triage decision {decision_id!r}")
    return decision


async def triage_incident(
    agent: Agent, *, incident_id: str, caller: Principal, requested_by: str = ""
) -> Decision:
    """Stores the decision first, so it survives ops being down; the proposal follows, now or
    from the proposal_retry worker. The decision, and the action it proposes, are requested by
    the caller, or by `requested_by` when a service triages for someone (a probe for the admin
    who defined it)."""
    requester = requester_for(caller, requested_by)
    now = agent.clock()
    async with agent.db.transaction() as session:
        incident = await find_incident(session, incident_id)
        rules = await agent.book.active(session)
        decision = decide(incident, rules, requester, now, agent.timer)
        await decision_rows.add_decisions(session, [decision])
        await record_events(session, [decided_event(decision)], now)
    if decision.outcome.recommendation is None:
        return decision
    return await deliver(agent.db, agent.proposer, decision)


def requester_for(caller: Principal, requested_by: str) -> str:
    """A probe triages for its author; a person always for themselves."""
    return caller.on_behalf_of(requested_by, "request on behalf of")


def decide(
    incident: Incident, rules: RuleSet, requested_by: str, now: datetime, timer: Timer
) -> Decision:
    snap = snapshot(incident)
    return Decision(
        id=str(uuid.uuid4()),
        incident_id=incident.id,
        outcome=triage(snap, rules, timer),
        logic_name=rules.name,
        logic_version=rules.logic_version,
        requested_by=requested_by,
        created_at=now,
        input_snapshot=snap,
    )


def decided_event(decision: Decision) -> Event:
    outcome = decision.outcome
    payload = {
        "incident_id": decision.incident_id,
        "category": outcome.category,
        "severity": outcome.severity,
        "confidence": outcome.confidence,
        "input_sha256": outcome.input_sha256,
        "output_sha256": outcome.output_sha256,
        "logic_name": decision.logic_name,
        "logic_version": decision.logic_version,
        "requested_by": decision.requested_by,
        "rules_fired": [hit.rule_id for hit in outcome.rules_fired],
        "recommended_action": outcome.recommendation.action if outcome.recommendation else "",
    }
    actor = automation_actor(decision)
    return Event(actor, "agent.triage.decided", f"decision/{decision.id}", payload)
