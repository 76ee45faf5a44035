"""Reads of the audit schema (the sequencer writes through log_writes.py); the one place rows
become domain objects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.log.domain.filters import Filter
from services.audit.log.domain.records import Actor, Event, Head, Record
from services.audit.tables import head, payloads, records


async def lock_head(session: AsyncSession) -> Head:
    """Takes the head row lock: the one-writer-at-a-time sequencer, held until commit."""
    query = select(head.c.size, head.c.last_hash).where(head.c.id == 1).with_for_update()
    row = (await session.execute(query)).one()
    return Head(row.size, row.last_hash)


async def read_head(session: AsyncSession) -> Head:
    row = (await session.execute(select(head.c.size, head.c.last_hash))).one()
    return Head(row.size, row.last_hash)


async def page(
    session: AsyncSession,
    *,
    after_seq: int,
    limit: int,
    target: str = "",
    upto: int | None = None,
    where: Filter | None = None,
) -> list[Record]:
    """Up to `limit` records with seq > after_seq (and <= upto), in seq order."""
    query = _select_records().where(records.c.seq > after_seq)
    if target:
        query = query.where(records.c.target == target)
    if upto is not None:
        query = query.where(records.c.seq <= upto)
    if where is not None:
        query = query.where(*where.clauses())
    rows = await session.execute(query.order_by(records.c.seq).limit(limit))
    return [_to_record(row) for row in rows]


def _select_records() -> Select[Any]:
    return select(records, payloads.c.payload_json).outerjoin(
        payloads, payloads.c.seq == records.c.seq
    )


def _to_record(row: Row[Any]) -> Record:
    event = Event(
        event_id=str(row.event_id),
        occurred_at=row.occurred_at,
        actor=to_actor(row.actor),
        action=row.action,
        target=row.target,
        outcome=row.outcome,
        trace_id=row.trace_id,
        source=row.source,
        payload_json=row.payload_json,
    )
    return Record(row.seq, event, row.payload_sha256, row.prev_hash, row.leaf_hash, row.recorded_at)


def to_actor(stored: Any) -> Actor:
    # Read leniently: a tampered actor must surface as a hash mismatch, not as a crash.
    actor: dict[str, Any] = stored if isinstance(stored, dict) else {}
    return Actor(
        subject=str(actor.get("subject", "")),
        roles=tuple(str(role) for role in actor.get("roles") or ()),
        kind=str(actor.get("kind", "")),
        logic_version=str(actor.get("logic_version", "")),
        desk=str(actor.get("desk", "")),
    )
