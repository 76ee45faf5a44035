"""The durable (re)delivery jobs in export.deliveries: one row per export and destination whose
next_attempt_at says when a worker should try again (NULL: nothing pending)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.export.domain.delivery import DeliveryJob
from services.export.tables import deliveries


async def lease(
    session: AsyncSession, export_id: str, destination: str, until: datetime, now: datetime
) -> DeliveryJob:
    """Creates or takes the job, pushing its next attempt to `until` (the lease): no worker
    starts it while this attempt runs, and one will if this attempt never reports back."""
    values = {"next_attempt_at": until, "updated_at": now}
    statement = (
        insert(deliveries)
        .values(export_id=export_id, destination=destination, **values)
        .on_conflict_do_update(index_elements=["export_id", "destination"], set_=values)
        .returning(*deliveries.c)
    )
    return _job((await session.execute(statement)).one())


async def claim_due(session: AsyncSession, now: datetime) -> DeliveryJob | None:
    claim = (
        select(deliveries)
        .where(deliveries.c.next_attempt_at <= now)
        .order_by(deliveries.c.next_attempt_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    row = (await session.execute(claim)).first()
    return None if row is None else _job(row)


async def get(session: AsyncSession, export_id: str, destination: str) -> DeliveryJob | None:
    query = select(deliveries).where(
        deliveries.c.export_id == export_id, deliveries.c.destination == destination
    )
    row = (await session.execute(query.with_for_update())).first()
    return None if row is None else _job(row)


async def set_job(session: AsyncSession, export_id: str, destination: str, **values: Any) -> None:
    await session.execute(
        update(deliveries)
        .where(deliveries.c.export_id == export_id, deliveries.c.destination == destination)
        .values(**values)
    )


def _job(row: Row[Any]) -> DeliveryJob:
    return DeliveryJob(
        export_id=str(row.export_id),
        destination=row.destination,
        verify=row.verify,
        failures=row.failures,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        updated_at=row.updated_at,
    )
