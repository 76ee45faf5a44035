"""Rows of agent.remediation_plans and agent.remediation_steps: a plan is stored once, with its
steps, and each step's proposal to ops is recorded on it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.remediation.domain.plans import (
    DryRunResult,
    Effect,
    Plan,
    PlannedStep,
    dry_run_dict,
)
from services.agent.remediation.tables import remediation_plans, remediation_steps
from services.agent.triage import is_uuid


async def get_plan(session: AsyncSession, decision_id: str, *, lock: bool = False) -> Plan | None:
    if not is_uuid(decision_id):
        return None
    query = select(remediation_plans).where(remediation_plans.c.decision_id == decision_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        return None
    s = remediation_steps.c
    steps = await session.execute(
        select(remediation_steps).where(s.decision_id == decision_id).order_by(s.position)
    )
    return Plan(
        decision_id=str(row.decision_id),
        incident_id=str(row.incident_id),
        category=row.category,
        severity=row.severity,
        playbook_name=row.playbook_name,
        playbook_version=row.playbook_version,
        steps=tuple(_step(step) for step in steps),
        planned_by=row.planned_by,
        planned_at=row.planned_at,
    )


async def add_plan(session: AsyncSession, plan: Plan) -> bool:
    """False when a concurrent caller stored this decision's plan first."""
    head = {k: v for k, v in asdict(plan).items() if k != "steps"}
    statement = pg_insert(remediation_plans).values(**head).on_conflict_do_nothing()
    inserted = await session.execute(statement.returning(remediation_plans.c.decision_id))
    if inserted.first() is None:
        return False
    for position, step in enumerate(plan.steps):
        await session.execute(
            insert(remediation_steps).values(
                decision_id=plan.decision_id,
                position=position,
                step_id=step.step_id,
                kind=step.kind,
                risk=step.risk,
                parameters=dict(step.parameters),
                rationale=step.rationale,
                dry_run=dry_run_dict(step.dry_run),
                source_ref=step.source_ref,
            )
        )
    return True


async def store_proposal(
    session: AsyncSession, decision_id: str, step_id: str, *, action_id: str | None, error: str
) -> None:
    s = remediation_steps.c
    await session.execute(
        update(remediation_steps)
        .where(s.decision_id == decision_id, s.step_id == step_id)
        .values(
            action_id=action_id,
            proposal_error=error,
            proposal_attempts=s.proposal_attempts + 1,
        )
    )


def _step(row: Row[Any]) -> PlannedStep:
    stored = row.dry_run
    dry_run = DryRunResult(
        model=stored["model"],
        summary=stored["summary"],
        effects=tuple(Effect(**effect) for effect in stored["effects"]),
        impacts=tuple(stored["impacts"]),
        assumptions=stored["assumptions"],
    )
    return PlannedStep(
        step_id=row.step_id,
        kind=row.kind,
        risk=row.risk,
        parameters=row.parameters,
        rationale=row.rationale,
        dry_run=dry_run,
        source_ref=row.source_ref,
        action_id=row.action_id,
        proposal_error=row.proposal_error,
    )
