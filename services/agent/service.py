"""Agent use cases. Each writes its rows and its audit event in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound
from runtime.outbox import person, record_event
from services.agent import repository
from services.agent.domain import Decision, RuleSet, snapshot, triage
from services.agent.incidents import Incident, NewIncident, validate
from services.agent.proposals import Proposal, Proposer, deliver, record
from services.agent.tables import outbox

__all__ = ["Proposal", "Proposer"]
DEFAULT_LIMIT, MAX_LIMIT = 50, 500


async def create_incident(db: Database, *, new: NewIncident, caller: Principal) -> Incident:
    now = datetime.now(UTC)
    validate(new, now)
    incident = Incident(
        **asdict(new), id=str(uuid.uuid4()), created_at=now, created_by=caller.subject
    )
    async with db.transaction() as session:
        await repository.add_incident(session, incident)
        await record_event(
            session,
            outbox,
            source="agent",
            actor=person(caller),
            action="agent.incident.created",
            target=f"incident/{incident.id}",
            payload={**snapshot(incident), "summary": incident.summary},
        )
    return incident


async def get_incident(db: Database, *, incident_id: str) -> Incident:
    async with db.transaction() as session:
        return await _incident(session, incident_id)


async def list_incidents(db: Database, *, limit: int) -> list[Incident]:
    if limit < 0:
        raise InvalidArgument("limit must not be negative")
    async with db.transaction() as session:
        return await repository.list_incidents(session, min(limit or DEFAULT_LIMIT, MAX_LIMIT))


async def get_decision(db: Database, *, decision_id: str) -> Decision:
    async with db.transaction() as session:
        decision = await repository.get_decision(session, decision_id)
    if decision is None:
        raise NotFound(f"no triage decision {decision_id!r}")
    return decision


async def triage_incident(
    db: Database, proposer: Proposer, *, incident_id: str, caller: Principal, rules: RuleSet
) -> Decision:
    """Stores the decision first, so it survives ops being down; the proposal follows, now or
    from the proposal_retry worker."""
    async with db.transaction() as session:
        incident = await _incident(session, incident_id)
        snap = snapshot(incident)
        decision = Decision(
            id=str(uuid.uuid4()),
            incident_id=incident.id,
            outcome=triage(snap, rules),
            logic_name=rules.name,
            logic_version=rules.logic_version,
            requested_by=caller.subject,
            created_at=datetime.now(UTC),
        )
        await repository.add_decision(session, decision, snap)
        await record(session, decision, "agent.triage.decided", _decided(decision))
    if decision.outcome.recommendation is None:
        return decision
    return await deliver(db, proposer, decision)


async def _incident(session: AsyncSession, incident_id: str) -> Incident:
    incident = await repository.get_incident(session, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id!r}")
    return incident


def _decided(decision: Decision) -> dict[str, object]:
    outcome = decision.outcome
    return {
        "incident_id": decision.incident_id,
        "category": outcome.category,
        "severity": outcome.severity,
        "confidence": outcome.confidence,
        "input_sha256": outcome.input_sha256,
        "logic_name": decision.logic_name,
        "logic_version": decision.logic_version,
        "requested_by": decision.requested_by,
        "rules_fired": [hit.rule_id for hit in outcome.rules_fired],
        "recommended_action": outcome.recommendation.action if outcome.recommendation else "",
    }
