"""Rows in the agent schema to and from domain objects; the only module that writes SQL."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.domain import Decision, Outcome, Recommendation, RuleHit
from services.agent.incidents import Incident
from services.agent.tables import decisions, incidents


async def add_incident(session: AsyncSession, incident: Incident) -> None:
    await session.execute(insert(incidents).values(**asdict(incident)))


async def get_incident(session: AsyncSession, incident_id: str) -> Incident | None:
    if not _is_uuid(incident_id):
        return None
    row = (await session.execute(select(incidents).where(incidents.c.id == incident_id))).first()
    return None if row is None else _incident(row)


async def list_incidents(session: AsyncSession, limit: int) -> list[Incident]:
    query = select(incidents).order_by(incidents.c.created_at.desc(), incidents.c.id.desc())
    return [_incident(row) for row in await session.execute(query.limit(limit))]


async def add_decision(session: AsyncSession, decision: Decision, snap: dict[str, Any]) -> None:
    outcome = decision.outcome
    await session.execute(
        insert(decisions).values(
            id=decision.id,
            incident_id=decision.incident_id,
            category=outcome.category,
            severity=outcome.severity,
            confidence=outcome.confidence,
            input_sha256=outcome.input_sha256,
            input_snapshot=snap,
            output=asdict(outcome),
            logic_name=decision.logic_name,
            logic_version=decision.logic_version,
            rules_fired=[asdict(hit) for hit in outcome.rules_fired],
            recommended_action=outcome.recommendation.action if outcome.recommendation else "",
            requested_by=decision.requested_by,
            created_at=decision.created_at,
            next_proposal_at=decision.created_at,
        )
    )


async def get_decision(session: AsyncSession, decision_id: str) -> Decision | None:
    if not _is_uuid(decision_id):
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


def _incident(row: Row[Any]) -> Incident:
    values = row._asdict()
    return Incident(**values)


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
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
