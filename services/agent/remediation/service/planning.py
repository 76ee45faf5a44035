"""PlanRemediation: a decision -> its playbook's steps with dry runs -> proposals at ops.

The plan is stored (with an audit event) before anything is proposed, and is never recomputed:
planning a decision again returns the stored plan and proposes only the steps ops has not
accepted yet. ProposeAction is idempotent on "playbook/<decision>/<step>", so two callers racing
each other, or a retry after a lost reply, give one action per step. Nothing here executes
anything: an action runs only after ops has approved it (see workers/executions.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, DomainError, NotFound
from runtime.outbox import automation, person
from services.agent.remediation.domain.planner import plan_steps
from services.agent.remediation.domain.plans import Plan, PlanContext, PlannedStep
from services.agent.remediation.domain.playbooks import Library
from services.agent.remediation.repository import plans
from services.agent.triage import Decision, get_decision, record

Clock = Callable[[], datetime]


class StepProposer(Protocol):
    """Proposes one step to ops and returns the action id; raises a DomainError on failure."""

    async def propose(self, plan: Plan, step: PlannedStep) -> str: ...


async def plan_remediation(
    db: Database,
    proposer: StepProposer,
    library: Library,
    *,
    decision_id: str,
    caller: Principal,
    clock: Clock = lambda: datetime.now(UTC),
) -> Plan:
    plan = await _stored_or_new(db, library, decision_id, caller, clock())
    for step in plan.steps:
        if step.action_id is None:
            await _submit(db, proposer, plan, step)
    return await get_plan(db, decision_id=decision_id)


async def get_plan(db: Database, *, decision_id: str) -> Plan:
    async with db.transaction() as session:
        plan = await plans.get_plan(session, decision_id)
    if plan is None:
        raise NotFound(f"no remediation plan for decision {decision_id}")
    return plan


async def _stored_or_new(
    db: Database, library: Library, decision_id: str, caller: Principal, now: datetime
) -> Plan:
    async with db.transaction() as session:
        decision = await get_decision(session, decision_id)
        if decision is None:
            raise NotFound(f"decision {decision_id} not found")
        context = plan_context(decision)
        stored = await plans.get_plan(session, decision_id)
        if stored is not None:
            return stored
        playbook = library.for_decision(context.category, context.kind)
        if playbook is not None:
            plan = Plan(
                decision_id=context.decision_id,
                incident_id=context.incident_id,
                category=context.category,
                severity=context.severity,
                playbook_name=playbook.name,
                playbook_version=playbook.logic_version,
                steps=plan_steps(playbook, context),
                planned_by=caller.subject,
                planned_at=now,
            )
            if await plans.add_plan(session, plan):
                await _event(session, caller, plan.decision_id, _planned(plan))
            return await plans.get_plan(session, decision_id) or plan
    async with db.transaction() as session:
        reason = f"no playbook covers category {context.category!r} or kind {context.kind!r}"
        refusal: dict[str, object] = {
            "category": context.category,
            "kind": context.kind,
            "reason": reason,
        }
        await _event(session, caller, context.decision_id, refusal, "failure")
    raise Conflict(reason)


async def _submit(db: Database, proposer: StepProposer, plan: Plan, step: PlannedStep) -> None:
    action_id, error = None, ""
    try:
        action_id = await proposer.propose(plan, step)
    except DomainError as exc:
        error = str(exc)
    async with db.transaction() as session:
        await plans.store_proposal(
            session, plan.decision_id, step.step_id, action_id=action_id, error=error
        )
        payload = {
            "decision_id": plan.decision_id,
            "step": step.step_id,
            "kind": step.kind,
            "risk": step.risk,
            "source_ref": step.source_ref,
            "action_id": action_id or "",
            "error": error,
            "dry_run": step.dry_run.summary,
        }
        await record(
            session,
            automation(f"agent-playbook/{plan.playbook_name}", plan.playbook_version),
            "agent.remediation.step_proposed",
            f"decision/{plan.decision_id}",
            payload,
            outcome="failure" if error else "success",
        )


def plan_context(decision: Decision) -> PlanContext:
    """What a playbook sees of a triage decision: the snapshot's text fields and its metrics."""
    snapshot = decision.input_snapshot
    return PlanContext(
        decision_id=decision.id,
        incident_id=decision.incident_id,
        category=decision.outcome.category,
        severity=decision.outcome.severity,
        fields={k: v for k, v in snapshot.items() if isinstance(v, str)},
        metrics={k: float(v) for k, v in snapshot.get("metrics", {}).items()},
        requested_by=decision.requested_by,
    )


def _planned(plan: Plan) -> dict[str, object]:
    return {
        "incident_id": plan.incident_id,
        "category": plan.category,
        "severity": plan.severity,
        "playbook": plan.playbook_name,
        "playbook_version": plan.playbook_version,
        "steps": [
            {"step": s.step_id, "kind": s.kind, "risk": s.risk, "dry_run": s.dry_run.summary}
            for s in plan.steps
        ],
    }


async def _event(
    session: AsyncSession,
    caller: Principal,
    decision_id: str,
    payload: dict[str, object],
    outcome: str = "success",
) -> None:
    await record(
        session,
        person(caller),
        "agent.remediation.planned",
        f"decision/{decision_id}",
        payload,
        outcome=outcome,
    )
