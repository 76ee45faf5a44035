"""Sealing a group of events and writing it inside the sequencer's transaction (the head row
lock held): records, the Merkle nodes they complete, the new head, and a signed checkpoint when
one is due.

Sealing is CPU work that needs only the tip it builds on (head and frontier), so the sequencer
seals the next group ahead, while the previous commit is still in flight, on the tip that commit
will leave. Under the lock the guess is checked: the head must be that tip and the duplicates
found in the database exactly the ones assumed; otherwise the group is sealed again on what is
actually there (another replica committed, the previous commit failed, or a retried event was
already logged). The frontier comes from the cache when it can: complete subtrees never change."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.log.domain.checkpoints.cutting import Checkpointer, StoredCheckpoint
from services.audit.log.domain.merkle.cache import TreeCache
from services.audit.log.domain.merkle.hashing import NodeId, append_nodes, frontier_ids, root_from
from services.audit.log.domain.records import Batch, Event, Head, sequence
from services.audit.log.repository import append_rows, appends, checkpoints
from services.audit.log.repository.nodes import read_nodes, upper_rows

SEAL_CHUNK = 250  # events sealed between two yields to the event loop


@dataclass(frozen=True)
class Tip:
    """The log's head and the frontier (complete subtrees) at that size."""

    head: Head
    frontier: Mapping[NodeId, bytes]


@dataclass(frozen=True)
class Sealed:
    base: Tip
    assumed: Mapping[str, int]  # ids taken as already logged (with their seqs) when sealing
    batch: Batch
    leaves: list[bytes]
    upper: Mapping[NodeId, bytes]  # new Merkle nodes above the leaves
    after: Tip
    copy: append_rows.CopyTexts

    def fits(self, head: Head, existing: Mapping[str, int]) -> bool:
        return head == self.base.head and existing == self.assumed


@dataclass(frozen=True)
class Committed:
    """What a commit wrote that the cache may learn once it is durable."""

    size: int
    frontier: Mapping[NodeId, bytes]
    upper: Mapping[NodeId, bytes]
    checkpoint: StoredCheckpoint | None
    leaves: Sequence[bytes] = ()  # the new leaves, the first at seq size - len(leaves)


async def seal(base: Tip, events: Sequence[Event], assumed: Mapping[str, int]) -> Sealed:
    """domain.records.sequence in chunks, yielding between them so replies and new requests are not
    held behind one long seal; then the Merkle nodes and the COPY data."""
    known, records, results, head = dict(assumed), [], [], base.head
    for start in range(0, len(events), SEAL_CHUNK):
        if start:
            await asyncio.sleep(0)
        part = sequence(head, events[start : start + SEAL_CHUNK], known)
        known.update((r.event.event_id, r.seq) for r in part.records)
        records += part.records
        results += part.results
        head = part.head
    leaves = [bytes.fromhex(record.leaf_hash) for record in records]
    nodes, frontier = append_nodes(base.head.size, base.frontier, leaves)
    upper = {node: value for node, value in nodes.items() if node[0] > 0}
    texts = append_rows.texts(records, upper_rows(upper))
    batch = Batch(records, results, head)
    return Sealed(base, dict(assumed), batch, leaves, upper, Tip(head, frontier), texts)


async def frontier_at(session: AsyncSession, cache: TreeCache, size: int) -> dict[NodeId, bytes]:
    wanted = frontier_ids(size)
    found = cache.nodes(wanted)
    missing = [node for node in wanted if node not in found]
    if missing:
        found.update(await read_nodes(session, missing))
    return found


async def write(
    session: AsyncSession, conn: appends.Connection, sealed: Sealed, checkpointer: Checkpointer
) -> Committed:
    """`conn` is the session's own psycopg connection (appends.connection)."""
    last = await appends.write(conn, sealed.copy, sealed.batch.head)
    size, frontier = sealed.after.head.size, sealed.after.frontier
    cut = None
    if checkpointer.due(last, size, datetime.now(UTC)):
        cut = await checkpoints.add(session, checkpointer.cut(size, root_from(size, frontier)))
    return Committed(size, frontier, sealed.upper, cut, sealed.leaves)


async def cut_if_due(
    session: AsyncSession, cache: TreeCache, size: int, checkpointer: Checkpointer
) -> StoredCheckpoint | None:
    last = await checkpoints.last(session)
    if not checkpointer.due(last, size, datetime.now(UTC)):
        return None
    frontier = await frontier_at(session, cache, size)
    return await checkpoints.add(session, checkpointer.cut(size, root_from(size, frontier)))
