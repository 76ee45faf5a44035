"""The reads that follow the log's end (service.tail): its last seq, and the records after a seq
that match any of some interests, each one statement on a plain connection (LogSource lends
one per read). A record is visible only once every record before it is: one writer at a time
commits under the head row lock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runtime.db import Database, RawConnection
from services.audit.log.domain.records import Event, Record
from services.audit.log.domain.watch import Interest
from services.audit.log.repository.head import log_size
from services.audit.log.repository.records import to_actor

_RECORDS = """
SELECT r.seq, r.event_id::text, r.occurred_at, r.actor, r.action, r.target, r.outcome,
       r.trace_id, r.source, p.payload_json, r.payload_sha256, r.prev_hash, r.leaf_hash,
       r.recorded_at
FROM audit.records r LEFT JOIN audit.payloads p ON p.seq = r.seq
WHERE r.seq > %s AND r.seq <= %s{matching}
ORDER BY r.seq
LIMIT %s
"""
_ONE = "(starts_with(r.target, %s) AND starts_with(r.action, %s))"


class LogSource:
    """service.subscription.Source on the service's database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def last_seq(self) -> int:
        async with self._db.read() as connection:
            return await last_seq(connection)

    async def records(
        self, after: int, last: int, interests: Sequence[Interest], size: int
    ) -> list[Record]:
        async with self._db.read() as connection:
            return await records_after(connection, after, last, interests, size)


async def last_seq(connection: RawConnection) -> int:
    """The seq of the log's last record; -1 when it is empty."""
    return await log_size(connection) - 1


async def records_after(
    connection: RawConnection, after: int, last: int, interests: Sequence[Interest], size: int
) -> list[Record]:
    """Up to `size` records with after < seq <= last that match one of `interests` (none:
    every record), in seq order."""
    matching, params = "", list[object]([after, last])
    if interests:
        matching = " AND (" + " OR ".join([_ONE] * len(interests)) + ")"
        for interest in interests:
            params += [interest.target_prefix, interest.action_prefix]
    async with connection.cursor() as cursor:
        await cursor.execute(_RECORDS.format(matching=matching), [*params, size])
        return [_record(row) for row in await cursor.fetchall()]


def _record(row: Sequence[Any]) -> Record:
    event = Event(
        event_id=row[1],
        occurred_at=row[2],
        actor=to_actor(row[3]),
        action=row[4],
        target=row[5],
        outcome=row[6],
        trace_id=row[7],
        source=row[8],
        payload_json=row[9],
    )
    return Record(row[0], event, row[10], row[11], row[12], row[13])
