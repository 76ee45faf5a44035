"""The one writer of the log. Callers submit validated events and wait; a single task takes
everything queued so far and commits it as one batch under the head row lock (which also
serialises writers in other replicas): seq, prev_hash, leaf hash, the Merkle nodes it completes,
and a signed checkpoint when one is due. Each caller is answered only after the commit, so an
acknowledged event is durable; a failed commit fails every caller of that batch, and retrying
is safe because appends are idempotent on event_id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import Database
from services.audit import checkpoint_store, repository
from services.audit.checkpointing import Checkpointer
from services.audit.domain import AppendResult, Event, sequence
from services.audit.merkle import NodeId, append_nodes, frontier_ids, root_from
from services.audit.tree_store import read_nodes, upper_rows

log = logging.getLogger(__name__)
MAX_EVENTS_PER_COMMIT = 5000


@dataclass
class _Waiting:
    events: Sequence[Event]
    done: asyncio.Future[list[AppendResult]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Sequencer:
    def __init__(self, db: Database, checkpointer: Checkpointer) -> None:
        self._db, self._checkpointer = db, checkpointer
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()

    async def append(self, events: Sequence[Event]) -> list[AppendResult]:
        if not events:
            return []
        waiting = _Waiting(events)
        await self._queue.put(waiting)
        return await waiting.done

    async def run(self) -> None:
        """The worker: one commit per drained group, until cancelled."""
        while True:
            group = await self._drain()
            try:
                results = await self._commit([e for w in group for e in w.events])
            except Exception as exc:
                log.exception("audit batch of %d callers failed", len(group))
                for waiting in group:
                    _settle(waiting, exc)
                continue
            _answer(group, results)

    async def _drain(self) -> list[_Waiting]:
        group = [await self._queue.get()]
        count = len(group[0].events)
        while count < MAX_EVENTS_PER_COMMIT and not self._queue.empty():
            group.append(self._queue.get_nowait())
            count += len(group[-1].events)
        return group

    async def _commit(self, events: Sequence[Event]) -> list[AppendResult]:
        async with self._db.transaction() as session:
            head = await repository.lock_head(session)
            ids = list(dict.fromkeys(event.event_id for event in events))
            batch = sequence(head, events, await repository.existing_seqs(session, ids))
            frontier = await read_nodes(session, frontier_ids(head.size))
            leaves = [bytes.fromhex(record.leaf_hash) for record in batch.records]
            nodes, frontier = append_nodes(head.size, frontier, leaves)
            await repository.add_records(session, batch.records, upper_rows(nodes))
            await repository.save_head(session, batch.head)
            await self._maybe_checkpoint(session, batch.head.size, frontier)
        return batch.results

    async def checkpoint_if_due(self) -> None:
        """The timer's path: cut a checkpoint for records that arrived since the last one."""
        async with self._db.transaction() as session:
            head = await repository.lock_head(session)
            frontier = await read_nodes(session, frontier_ids(head.size))
            await self._maybe_checkpoint(session, head.size, frontier)

    async def _maybe_checkpoint(
        self, session: AsyncSession, size: int, frontier: Mapping[NodeId, bytes]
    ) -> None:
        last = await checkpoint_store.last(session)
        if self._checkpointer.due(last, size, datetime.now(UTC)):
            await checkpoint_store.add(
                session, self._checkpointer.cut(size, root_from(size, frontier))
            )

    async def run_timer(self) -> None:
        """Cuts time-based checkpoints when no append brings one about."""
        pause = max(self._checkpointer.cadence.every_ms / 2000, 0.05)
        while True:
            await asyncio.sleep(pause)
            try:
                await self.checkpoint_if_due()
            except Exception:
                log.exception("timed checkpoint failed; retrying on the next tick")


def _answer(group: list[_Waiting], results: list[AppendResult]) -> None:
    offset = 0
    for waiting in group:
        mine = results[offset : offset + len(waiting.events)]
        offset += len(waiting.events)
        _settle(waiting, mine)


def _settle(waiting: _Waiting, outcome: list[AppendResult] | BaseException) -> None:
    if waiting.done.done():
        return
    if isinstance(outcome, BaseException):
        waiting.done.set_exception(outcome)
    else:
        waiting.done.set_result(outcome)
