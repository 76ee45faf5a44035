"""Every delivery attempt (export.delivery_attempts, append-only), whatever its outcome."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.export.domain.delivery import DELIVERED, DeliveryAttempt
from services.export.repository.outbox import Actor, subject
from services.export.tables import delivery_attempts


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
