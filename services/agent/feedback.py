"""People's verdicts on decisions, and the triage metrics they feed. A verdict is attributed to
the caller and audited: "agent.triage.confirmed" for agree, "agent.triage.overridden" for an
override; a refused one is audited as "denied"."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from runtime.auth import Principal
from runtime.errors import InvalidArgument, NotFound
from runtime.outbox import person
from services.agent import feedback_store, repository
from services.agent.domain import SEVERITIES, Decision
from services.agent.events import Event, record_events
from services.agent.feedback_store import Feedback, VersionCounts
from services.agent.refusals import audited
from services.agent.service import Agent

VERDICTS = {"agree": "agent.triage.confirmed", "override": "agent.triage.overridden"}
MAX_REASON = 2000


@dataclass(frozen=True)
class Verdict:
    verdict: str
    corrected_severity: str = ""
    corrected_category: str = ""
    reason: str = ""


@dataclass(frozen=True)
class TriageMetrics:
    decisions: int
    by_severity: dict[str, int]
    by_category: dict[str, int]
    by_logic_version: list[VersionCounts]


async def record_feedback(
    agent: Agent, *, decision_id: str, verdict: Verdict, caller: Principal
) -> Feedback:
    action = VERDICTS.get(verdict.verdict, "agent.triage.feedback")
    target = f"decision/{decision_id}"
    async with audited(agent.db, caller, action, target, {"verdict": verdict.verdict}):
        now = agent.clock()
        async with agent.db.transaction() as session:
            decision = await repository.get_decision(session, decision_id)
            if decision is None:
                raise NotFound(f"no triage decision {decision_id!r}")
            _check(verdict, decision)
            item = _feedback(verdict, decision, caller, now)
            await feedback_store.add(session, item)
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
        severity = await feedback_store.decision_counts(session, "severity", since, until)
        category = await feedback_store.decision_counts(session, "category", since, until)
        versions = await feedback_store.version_counts(session, since, until)
    return TriageMetrics(sum(severity.values()), severity, category, versions)


def _check(verdict: Verdict, decision: Decision) -> None:
    if verdict.verdict not in VERDICTS:
        raise InvalidArgument("verdict must be 'agree' or 'override'")
    if len(verdict.reason) > MAX_REASON:
        raise InvalidArgument(f"reason is longer than {MAX_REASON} characters")
    if verdict.verdict == "agree":
        if verdict.corrected_severity or verdict.corrected_category:
            raise InvalidArgument("an agreement carries no corrected severity or category")
        return
    if not verdict.reason.strip():
        raise InvalidArgument("an override needs a reason")
    if verdict.corrected_severity and verdict.corrected_severity not in SEVERITIES:
        raise InvalidArgument(f"corrected_severity must be one of {', '.join(SEVERITIES)}")
    outcome = decision.outcome
    if (verdict.corrected_severity or outcome.severity) == outcome.severity and (
        verdict.corrected_category or outcome.category
    ) == outcome.category:
        raise InvalidArgument("an override must correct the severity or the category")


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
