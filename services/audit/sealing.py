"""The sequencer's writes inside its transaction (the head row lock held): a sealed batch's
records, the Merkle nodes they complete, the new head, and a signed checkpoint when one is due.
The frontier comes from the cache when it can: complete subtrees never change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import checkpoint_store, repository
from services.audit.checkpoint_store import StoredCheckpoint
from services.audit.checkpointing import Checkpointer
from services.audit.domain import Batch
from services.audit.merkle import NodeId, append_nodes, frontier_ids, root_from
from services.audit.tree_cache import TreeCache
from services.audit.tree_store import read_nodes, upper_rows


@dataclass(frozen=True)
class Committed:
    """What a commit wrote that the cache may learn once it is durable."""

    size: int
    frontier: Mapping[NodeId, bytes]
    upper: Mapping[NodeId, bytes]
    checkpoint: StoredCheckpoint | None


async def frontier_at(session: AsyncSession, cache: TreeCache, size: int) -> dict[NodeId, bytes]:
    wanted = frontier_ids(size)
    found = cache.nodes(wanted)
    missing = [node for node in wanted if node not in found]
    if missing:
        found.update(await read_nodes(session, missing))
    return found


async def commit_batch(
    session: AsyncSession, cache: TreeCache, size: int, batch: Batch, checkpointer: Checkpointer
) -> Committed:
    frontier = await frontier_at(session, cache, size)
    leaves = [bytes.fromhex(record.leaf_hash) for record in batch.records]
    nodes, frontier = append_nodes(size, frontier, leaves)
    upper = {node: value for node, value in nodes.items() if node[0] > 0}
    await repository.add_records(session, batch.records, upper_rows(upper))
    await repository.save_head(session, batch.head)
    cut = await _maybe_cut(session, batch.head.size, frontier, checkpointer)
    return Committed(batch.head.size, frontier, upper, cut)


async def cut_if_due(
    session: AsyncSession, cache: TreeCache, size: int, checkpointer: Checkpointer
) -> StoredCheckpoint | None:
    last = await checkpoint_store.last(session)
    if not checkpointer.due(last, size, datetime.now(UTC)):
        return None
    frontier = await frontier_at(session, cache, size)
    return await checkpoint_store.add(session, checkpointer.cut(size, root_from(size, frontier)))


async def _maybe_cut(
    session: AsyncSession, size: int, frontier: Mapping[NodeId, bytes], checkpointer: Checkpointer
) -> StoredCheckpoint | None:
    last = await checkpoint_store.last(session)
    if not checkpointer.due(last, size, datetime.now(UTC)):
        return None
    return await checkpoint_store.add(session, checkpointer.cut(size, root_from(size, frontier)))
