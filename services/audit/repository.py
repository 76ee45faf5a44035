"""Reads and writes of the audit schema; the one place rows become domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.domain import Actor, Event, Head, Record
from services.audit.filters import Filter
from services.audit.tables import head, payloads, records


async def lock_head(session: AsyncSession) -> Head:
    """Takes the head row lock: the one-writer-at-a-time sequencer, held until commit."""
    query = select(head.c.size, head.c.last_hash).where(head.c.id == 1).with_for_update()
    row = (await session.execute(query)).one()
    return Head(row.size, row.last_hash)


async def read_head(session: AsyncSession) -> Head:
    row = (await session.execute(select(head.c.size, head.c.last_hash))).one()
    return Head(row.size, row.last_hash)


async def save_head(session: AsyncSession, new: Head) -> None:
    values = {"size": new.size, "last_hash": new.last_hash}
    await session.execute(update(head).where(head.c.id == 1).values(**values))


# One array parameter, not an IN list of thousands of binds (costly to build and to parse).
_EXISTING = text(
    "SELECT event_id::text AS event_id, seq FROM audit.records"
    " WHERE event_id = ANY(CAST(:ids AS uuid[]))"
)


async def existing_seqs(session: AsyncSession, event_ids: Sequence[str]) -> dict[str, int]:
    rows = await session.execute(_EXISTING, {"ids": list(event_ids)})
    return {row.event_id: row.seq for row in rows}


async def add_records(
    session: AsyncSession, new: Sequence[Record], nodes: Sequence[tuple[int, int, bytes]]
) -> None:
    """Writes records, their payloads and new Merkle nodes with COPY: the sequencer's hot path
    (several times faster than multi-row INSERTs for the batches it writes)."""
    if not new:
        return
    connection = await (await session.connection()).get_raw_connection()
    driver = connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    async with cursor.copy(_COPY_RECORDS) as copy:
        for record in new:
            await copy.write_row(_record_row(record))
    async with cursor.copy("COPY audit.payloads (seq, payload_json) FROM STDIN") as copy:
        for record in new:
            await copy.write_row((record.seq, record.event.payload_json))
    async with cursor.copy("COPY audit.nodes (level, idx, hash) FROM STDIN") as copy:
        for node in nodes:
            await copy.write_row(node)


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


_COLUMNS = (
    "seq, event_id, occurred_at, actor, action, target, outcome, trace_id, source,"
    " payload_sha256, prev_hash, leaf_hash"
)
_COPY_RECORDS = f"COPY audit.records ({_COLUMNS}) FROM STDIN"


def _record_row(record: Record) -> tuple[Any, ...]:
    event = record.event
    return (
        record.seq,
        event.event_id,
        event.occurred_at,
        event.actor.canonical,
        event.action,
        event.target,
        event.outcome,
        event.trace_id,
        event.source,
        record.payload_sha256,
        record.prev_hash,
        record.leaf_hash,
    )


def _to_record(row: Row[Any]) -> Record:
    event = Event(
        event_id=str(row.event_id),
        occurred_at=row.occurred_at,
        actor=_to_actor(row.actor),
        action=row.action,
        target=row.target,
        outcome=row.outcome,
        trace_id=row.trace_id,
        source=row.source,
        payload_json=row.payload_json,
    )
    return Record(row.seq, event, row.payload_sha256, row.prev_hash, row.leaf_hash, row.recorded_at)


def _to_actor(stored: Any) -> Actor:
    # Read leniently: a tampered actor must surface as a hash mismatch, not as a crash.
    actor: dict[str, Any] = stored if isinstance(stored, dict) else {}
    return Actor(
        subject=str(actor.get("subject", "")),
        roles=tuple(str(role) for role in actor.get("roles") or ()),
        kind=str(actor.get("kind", "")),
        logic_version=str(actor.get("logic_version", "")),
        desk=str(actor.get("desk", "")),
    )
