"""Rows of agent.decisions: storing triage decisions, reading them back, and the delivery state
of their proposals to ops."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.paging import After
from services.agent.triage.domain.decisions import (
    Decision,
    FeatureContribution,
    Outcome,
    Recommendation,
    RuleHit,
    SeverityChange,
)
from services.agent.triage.domain.triage import hit_document, output_document
from services.agent.triage.repository.bulk import copy_rows
from services.agent.triage.repository.incidents import is_uuid
from services.agent.triage.repository.keyset import newest_first
from services.agent.triage.tables import decisions


async def list_decisions(
    session: AsyncSession, incident_id: str, limit: int, *, after: After | None = None
) -> list[Decision]:
    """One incident's decisions, newest first, ties by id (runtime.paging)."""
    c = decisions.c
    query = newest_first(
        select(decisions).where(c.incident_id == incident_id), c.created_at, c.id, after
    )
    return [_decision(row) for row in await session.execute(query.limit(limit))]


async def add_decisions(session: AsyncSession, batch: Sequence[Decision]) -> None:
    if batch:
        await copy_rows(session, decisions, [decision_row(d) for d in batch])


def decision_row(decision: Decision) -> dict[str, Any]:
    outcome = decision.outcome
    return {
        "id": decision.id,
        "incident_id": decision.incident_id,
        "category": outcome.category,
        "severity": outcome.severity,
        "confidence": outcome.confidence,
        "input_sha256": outcome.input_sha256,
        "input_snapshot": decision.input_snapshot,
        "output": output_document(outcome),
        "output_sha256": outcome.output_sha256,
        "evaluation_us": outcome.evaluation_us,
        "logic_name": decision.logic_name,
        "logic_version": decision.logic_version,
        "rules_fired": [hit_document(hit) for hit in outcome.rules_fired],
        "recommended_action": outcome.recommendation.action if outcome.recommendation else "",
        "requested_by": decision.requested_by,
        "created_at": decision.created_at,
        "next_proposal_at": decision.created_at,
    }


async def get_decision(session: AsyncSession, decision_id: str) -> Decision | None:
    if not is_uuid(decision_id):
        return None
    row = (await session.execute(select(decisions).where(decisions.c.id == decision_id))).first()
    return None if row is None else _decision(row)


async def claim_pending_proposal(
    session: AsyncSession, now: datetime
) -> tuple[Decision, int] | None:
    """Locks one decision whose proposal is due and undelivered; other replicas skip it."""
    d = decisions.c
    query = (
        select(decisions)
        .where(d.recommended_action != "", d.action_id.is_(None), d.next_proposal_at <= now)
        .order_by(d.next_proposal_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (_decision(row), row.proposal_attempts)


async def store_action_id(session: AsyncSession, decision_id: str, action_id: str) -> bool:
    """False when another attempt already stored it (ops returned the same action to both)."""
    d = decisions.c
    result = await session.execute(
        update(decisions)
        .where(d.id == decision_id, d.action_id.is_(None))
        .values(action_id=action_id, proposal_error=None)
        .returning(d.id)
    )
    return result.first() is not None


async def postpone_proposal(
    session: AsyncSession, decision_id: str, *, attempts: int, error: str, next_at: datetime
) -> None:
    await session.execute(
        update(decisions)
        .where(decisions.c.id == decision_id)
        .values(proposal_attempts=attempts, proposal_error=error, next_proposal_at=next_at)
    )


def _decision(row: Row[Any]) -> Decision:
    output = row.output
    recommendation = output.get("recommendation")
    outcome = Outcome(
        category=row.category,
        severity=row.severity,
        confidence=row.confidence,
        input_sha256=row.input_sha256,
        rules_fired=tuple(RuleHit(**hit) for hit in row.rules_fired),
        recommendation=Recommendation(**recommendation) if recommendation else None,
        winning_rule=output.get("winning_rule", ""),
        score=output.get("score", 0.0),
        contributions=tuple(FeatureContribution(**c) for c in output.get("contributions", ())),
        severity_changes=tuple(SeverityChange(**c) for c in output.get("severity_changes", ())),
        output_sha256=row.output_sha256,
        evaluation_us=row.evaluation_us,
    )
    return Decision(
        id=str(row.id),
        incident_id=str(row.incident_id),
        outcome=outcome,
        logic_name=row.logic_name,
        logic_version=row.logic_version,
        requested_by=row.requested_by,
        created_at=row.created_at,
        action_id=row.action_id,
        input_snapshot=row.input_snapshot,
    )
