"""What deliveries leave behind: attempt rows, verification rows and audit events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.export.delivery.policy import subject
from services.export.events import Actor, record
from services.export.scheduling_tables import delivery_attempts, verifications

SOURCE = "export"
DELIVERED, FAILED = "delivered", "failed"


@dataclass(frozen=True)
class DeliveryAttempt:
    export_id: str
    at: datetime
    destination: str
    outcome: str  # "delivered" or "failed"
    detail: str  # the location on success, the reason on failure
    bytes: int


@dataclass(frozen=True)
class Verification:
    export_id: str
    ok: bool
    checked_at: datetime
    problems: tuple[str, ...]
    fetched_from: str


async def add_attempt(session: AsyncSession, attempt: DeliveryAttempt, actor: Actor) -> None:
    await session.execute(
        insert(delivery_attempts).values(
            export_id=attempt.export_id,
            at=attempt.at,
            destination=attempt.destination,
            outcome=attempt.outcome,
            detail=attempt.detail,
            bytes=attempt.bytes,
            actor=subject(actor),
        )
    )


async def attempts(session: AsyncSession, export_id: str) -> list[DeliveryAttempt]:
    query = (
        select(delivery_attempts)
        .where(delivery_attempts.c.export_id == export_id)
        .order_by(delivery_attempts.c.at, delivery_attempts.c.id)
    )
    return [
        DeliveryAttempt(str(r.export_id), r.at, r.destination, r.outcome, r.detail, r.bytes)
        for r in (await session.execute(query)).all()
    ]


async def last_delivered_to(session: AsyncSession, export_id: str) -> str | None:
    query = (
        select(delivery_attempts.c.destination)
        .where(delivery_attempts.c.export_id == export_id, delivery_attempts.c.outcome == DELIVERED)
        .order_by(delivery_attempts.c.at.desc(), delivery_attempts.c.id.desc())
        .limit(1)
    )
    found: str | None = (await session.execute(query)).scalar()
    return found


async def add_verification(session: AsyncSession, verdict: Verification, actor: Actor) -> None:
    await session.execute(
        insert(verifications).values(
            export_id=verdict.export_id,
            checked_at=verdict.checked_at,
            ok=verdict.ok,
            problems=list(verdict.problems),
            fetched_from=verdict.fetched_from,
            actor=subject(actor),
        )
    )


async def event(
    session: AsyncSession,
    actor: Actor,
    action: str,
    export_id: str,
    payload: dict[str, Any],
    outcome: str = "success",
) -> None:
    await record(session, actor, action, export_id, payload, outcome)


def first(problems: Sequence[str], limit: int = 20) -> list[str]:
    """Enough problems to act on; a directory of a million bad files must not flood the log."""
    return list(problems[:limit]) + (
        [f"... and {len(problems) - limit} more"] * (len(problems) > limit)
    )
