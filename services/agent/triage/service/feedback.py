"""People's verdicts on decisions, and the triage metrics they feed. A verdict is attributed to
the caller and audited: "agent.triage.confirmed" for agree, "agent.triage.overridden" for an
override; a refused one is audited as "denied"."""

from __future__ import annotations

import uuid
from datetime import datetime

from runtime.auth import Principal
from runtime.errors import NotFound
from runtime.outbox import person
from services.agent.triage.domain.decisions import Decision
from services.agent.triage.domain.feedback import VERDICTS, Feedback, TriageMetrics, Verdict, check
from services.agent.triage.repository import decisions as decision_rows
from services.agent.triage.repository import feedback as feedback_rows
from services.agent.triage.repository.outbox import Event, record_events
from services.agent.triage.service.agent import Agent
from services.agent.triage.service.refusals import audited


async def record_feedback(
    agent: Agent, *, decision_id: str, verdict: Verdict, caller: Principal
) -> Feedback:
    action = VERDICTS.get(verdict.verdict, "agent.triage.feedback")
    target = f"decision/{decision_id}"
    async with audited(agent.db, caller, action, target, {"verdict": verdict.verdict}):
        now = agent.clock()
        async with agent.db.transaction() as session:
            decision = await decision_rows.get_decision(session, decision_id)
            if decision is None:
                raise NotFound(f"no triage decision {decision_id!r}")
            check(verdict, decision)
            item = _feedback(verdict, decision, caller, now)
            await feedback_rows.add(session, item)
            payload = {
                "verdict": item.verdict,
                "severity": decision.outcome.severity,
                "category": decision.outcome.category,
                "corrected_severity": item.corrected_severity,
                "corrected_category": item.corrected_category,
                "reason": item.reason,
                "logic_version": item.logic_version,
            }
            await record_events(session, [Event(person(caller), action, target, payload)], now)
        return item


async def triage_metrics(
    agent: Agent, *, since: datetime | None, until: datetime | None
) -> TriageMetrics:
    async with agent.db.transaction() as session:
        severity = await feedback_rows.decision_counts(session, "severity", since, until)
        category = await feedback_rows.decision_counts(session, "category", since, until)
        versions = await feedback_rows.version_counts(session, since, until)
    return TriageMetrics(sum(severity.values()), severity, category, versions)


def _feedback(verdict: Verdict, decision: Decision, caller: Principal, now: datetime) -> Feedback:
    return Feedback(
        id=str(uuid.uuid4()),
        decision_id=decision.id,
        verdict=verdict.verdict,
        corrected_severity=verdict.corrected_severity,
        corrected_category=verdict.corrected_category.strip(),
        reason=verdict.reason.strip(),
        logic_version=decision.logic_version,
        created_by=caller.subject,
        created_at=now,
    )
