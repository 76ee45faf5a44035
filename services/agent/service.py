"""Agent use cases: intake and triage. Each writes its rows and its audit events in one
transaction. `Agent` carries what they share: the database, the ops proposer, the rule book,
the intake windows and injected clocks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound
from services.agent import intake_store, repository
from services.agent.domain import Decision, RuleSet, snapshot
from services.agent.events import Event, record_events
from services.agent.incidents import Incident, NewIncident, normalise, validate
from services.agent.intake import Windows, take_in
from services.agent.proposals import Proposal, Proposer, automation_actor, deliver
from services.agent.rulebook import RuleBook
from services.agent.triage import Timer, triage

__all__ = ["Proposal", "Proposer", "Windows"]
Clock = Callable[[], datetime]
DEFAULT_WINDOWS = Windows()


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Agent:
    db: Database
    proposer: Proposer
    book: RuleBook
    windows: Windows = DEFAULT_WINDOWS
    clock: Clock = utc_now
    timer: Timer = field(default=time.perf_counter)


def accept(reports: Sequence[NewIncident], now: datetime) -> list[NewIncident]:
    """Normalised and validated reports; InvalidArgument names the first bad one."""
    accepted = []
    for index, report in enumerate(reports):
        try:
            normalised = normalise(report)
            validate(normalised, now)
        except InvalidArgument as exc:
            raise InvalidArgument(
                f"incident {index}: {exc}" if len(reports) > 1 else str(exc)
            ) from None
        accepted.append(normalised)
    return accepted


async def create_incident(
    db: Database,
    *,
    new: NewIncident,
    caller: Principal,
    windows: Windows = DEFAULT_WINDOWS,
    clock: Clock = utc_now,
) -> Incident:
    """Intake of one report (also used by the agent's own compliance checks)."""
    now = clock()
    [report] = accept([new], now)  # a bad report is refused before any database work
    async with db.transaction() as session:
        incident = await open_one(session, report, caller=caller, now=now, windows=windows)
        return replace(incident, related=await intake_store.related(session, incident))


async def open_one(
    session: AsyncSession,
    report: NewIncident,
    *,
    caller: Principal,
    now: datetime,
    windows: Windows,
) -> Incident:
    """One accepted report (accept) through intake in the caller's transaction, audited."""
    [incident], events = await take_in(session, [report], caller=caller, now=now, windows=windows)
    await record_events(session, events, now)
    return incident


async def get_incident(agent: Agent, *, incident_id: str) -> Incident:
    async with agent.db.transaction() as session:
        incident = await _incident(session, incident_id)
        return replace(incident, related=await intake_store.related(session, incident))


async def get_decision(agent: Agent, *, decision_id: str) -> Decision:
    async with agent.db.transaction() as session:
        decision = await repository.get_decision(session, decision_id)
    if decision is None:
        raise NotFound(f"no triage decision {decision_id!r}")
    return decision


async def triage_incident(agent: Agent, *, incident_id: str, caller: Principal) -> Decision:
    """Stores the decision first, so it survives ops being down; the proposal follows, now or
    from the proposal_retry worker."""
    now = agent.clock()
    async with agent.db.transaction() as session:
        incident = await _incident(session, incident_id)
        rules = await agent.book.active(session)
        decision = decide(incident, rules, caller.subject, now, agent.timer)
        await repository.add_decisions(session, [decision])
        await record_events(session, [decided_event(decision)], now)
    if decision.outcome.recommendation is None:
        return decision
    return await deliver(agent.db, agent.proposer, decision)


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


async def _incident(session: AsyncSession, incident_id: str) -> Incident:
    incident = await repository.get_incident(session, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id!r}")
    return incident
