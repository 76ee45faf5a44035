"""The sequencer's statements, on its transaction's own psycopg connection, in as few round
trips as the protocol allows: a commit used to make about fourteen, each one a wait for the
database process to be scheduled, which on a loaded machine is what an acknowledgement waited
for. Now: one pipeline takes the head row lock and looks up the batch's ids (the second
statement starts after the lock is granted, so it sees every commit before it); the records go
by COPY; one pipeline writes payloads, Merkle nodes and the head and reads the last checkpoint;
then COMMIT. This is the one write path of records, nodes and the head, and of payloads but
for a redaction's (redactions.py)."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.log.domain.checkpoints.cutting import LastCheckpoint
from services.audit.log.domain.records import Head
from services.audit.log.repository.append_rows import COPY_RECORDS, CopyTexts

Connection = psycopg.AsyncConnection[Any]

_LOCK = "SELECT size, last_hash FROM audit.head WHERE id = 1 FOR UPDATE"
# Ids are validated UUIDs: the array's text form needs no quoting.
_EXISTING = "SELECT event_id::text, seq FROM audit.records WHERE event_id = ANY(%s::uuid[])"
_PAYLOADS = (
    "INSERT INTO audit.payloads (seq, payload_json) SELECT * FROM unnest(%s::bigint[], %s::text[])"
)
_NODES = (
    "INSERT INTO audit.nodes (level, idx, hash) SELECT l, i, decode(h, 'hex')"
    " FROM unnest(%s::smallint[], %s::bigint[], %s::text[]) AS n(l, i, h)"
)
_HEAD = "UPDATE audit.head SET size = %s, last_hash = %s WHERE id = 1"
_LAST = "SELECT tree_size, created_at FROM audit.checkpoints ORDER BY tree_size DESC LIMIT 1"


async def connection(session: AsyncSession) -> Connection:
    """The psycopg connection under the session, inside the session's transaction."""
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    return driver  # type: ignore[no-any-return]


async def lock_and_find(conn: Connection, event_ids: list[str]) -> tuple[Head, dict[str, int]]:
    """Takes the head row lock (held until commit: one writer at a time, across replicas) and
    finds which of the ids are already logged, with their seqs."""
    async with conn.pipeline():
        head = await conn.execute(_LOCK)
        # Planned for each batch: a plan kept from when the log was small scans the whole table.
        found = await conn.execute(_EXISTING, ("{" + ",".join(event_ids) + "}",), prepare=False)
    size, last_hash = (await head.fetchall())[0]
    return Head(int(size), str(last_hash)), {str(i): int(s) for i, s in await found.fetchall()}


async def write(conn: Connection, rows: CopyTexts, new: Head) -> LastCheckpoint:
    """Writes a sealed batch and the new head; returns the last checkpoint cut so far."""
    if rows.records:
        async with conn.cursor().copy(COPY_RECORDS) as copy:
            await copy.write(rows.records)
    async with conn.pipeline():
        if rows.records:
            await conn.execute(_PAYLOADS, (rows.payload_seqs, rows.payloads))
        if rows.node_levels != "{}":
            await conn.execute(_NODES, (rows.node_levels, rows.node_indexes, rows.node_hashes))
        await conn.execute(_HEAD, (new.size, new.last_hash))
        last = await conn.execute(_LAST)
    found = await last.fetchall()
    return LastCheckpoint(int(found[0][0]), found[0][1]) if found else LastCheckpoint(0, None)
