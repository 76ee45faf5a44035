"""The one writer of the log. Callers submit validated events; a single task takes everything
queued so far (up to MAX_EVENTS_PER_COMMIT) and commits it as one batch under the head row lock
(which also serialises writers in other replicas): seq, prev_hash, leaf hash, the Merkle nodes
it completes, and a signed checkpoint when one is due.

`append` answers only after the commit, so an acknowledged event is durable; a failed commit
fails every caller of that batch, and retrying is safe because appends are idempotent on
event_id. `enqueue` is for the service's own read-audit events: nobody waits, so a crash can
lose those of the commit in flight and of the queue, never an acknowledged event."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from runtime.db import Database
from services.audit import repository
from services.audit.checkpointing import Checkpointer
from services.audit.domain import AppendResult, Batch, Event, Head, sequence
from services.audit.sealing import Committed, commit_batch, cut_if_due
from services.audit.tree_cache import TreeCache

log = logging.getLogger(__name__)
# Small enough that one commit (and the replies held behind it) stays in the tens of ms.
MAX_EVENTS_PER_COMMIT = 1000
SEAL_CHUNK = 250  # events sealed between two yields to the event loop


@dataclass
class _Waiting:
    events: Sequence[Event]
    done: asyncio.Future[list[AppendResult]] | None  # None: enqueued, nobody waits


class Sequencer:
    def __init__(
        self, db: Database, checkpointer: Checkpointer, cache: TreeCache | None = None
    ) -> None:
        self._db, self._checkpointer = db, checkpointer
        self.cache = cache or TreeCache()
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()
        self._unsettled = 0  # enqueued events not yet committed (or given up)

    async def append(self, events: Sequence[Event]) -> list[AppendResult]:
        if not events:
            return []
        return await self._submit(events)

    def enqueue(self, events: Sequence[Event]) -> None:
        """Queues events for the next commit and returns at once (read-audit events only)."""
        if events:
            self._unsettled += 1
            self._queue.put_nowait(_Waiting(events, None))

    async def settled(self) -> None:
        """Returns once everything enqueued before the call is committed (or given up)."""
        if self._unsettled:
            await self._submit([])

    async def _submit(self, events: Sequence[Event]) -> list[AppendResult]:
        waiting = _Waiting(events, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(waiting)
        assert waiting.done is not None
        return await waiting.done

    async def run(self) -> None:
        """The worker: one commit per drained group, until cancelled. A commit in flight when
        cancelled is finished first, so a stop never abandons callers it already took."""
        while True:
            group = await self._drain()
            work = asyncio.ensure_future(self._settle_group(group))
            try:
                await asyncio.shield(work)
            except asyncio.CancelledError:
                await work
                raise

    async def _drain(self) -> list[_Waiting]:
        group = [await self._queue.get()]
        count = len(group[0].events)
        while count < MAX_EVENTS_PER_COMMIT and not self._queue.empty():
            group.append(self._queue.get_nowait())
            count += len(group[-1].events)
        return group

    async def _settle_group(self, group: list[_Waiting]) -> None:
        events = [e for w in group for e in w.events]
        try:
            results = await self._commit(events) if events else []
        except Exception as exc:
            log.exception("audit batch of %d events failed", len(events))
            self._answer(group, exc)
            return
        self._answer(group, results)

    def _answer(self, group: list[_Waiting], outcome: list[AppendResult] | Exception) -> None:
        offset = 0
        for waiting in group:
            mine, offset = _share(outcome, offset, len(waiting.events))
            if waiting.done is None:
                self._unsettled -= 1
            elif waiting.done.done():
                continue
            elif isinstance(outcome, Exception):
                waiting.done.set_exception(outcome)
            else:
                waiting.done.set_result(mine)

    async def _commit(self, events: Sequence[Event]) -> list[AppendResult]:
        async with self._db.transaction() as session:
            head = await repository.lock_head(session)
            ids = list(dict.fromkeys(event.event_id for event in events))
            batch = await _sequence(head, events, await repository.existing_seqs(session, ids))
            done = await commit_batch(session, self.cache, head.size, batch, self._checkpointer)
        self._learn(done)
        return batch.results

    async def checkpoint_if_due(self) -> None:
        """The timer's path: cut a checkpoint for records that arrived since the last one."""
        async with self._db.transaction() as session:
            head = await repository.lock_head(session)
            cut = await cut_if_due(session, self.cache, head.size, self._checkpointer)
        self._learn(Committed(head.size, {}, {}, cut))

    def _learn(self, done: Committed) -> None:
        """Only now, after the commit, may its nodes and checkpoint enter the cache."""
        self.cache.add_nodes(done.frontier)
        self.cache.add_nodes(done.upper)
        self.cache.saw_size(done.size)
        if done.checkpoint is not None:
            self.cache.set_latest(done.checkpoint)

    async def run_timer(self) -> None:
        """Cuts time-based checkpoints when no append brings one about."""
        pause = max(self._checkpointer.cadence.every_ms / 2000, 0.05)
        while True:
            await asyncio.sleep(pause)
            try:
                await self.checkpoint_if_due()
            except Exception:
                log.exception("timed checkpoint failed; retrying on the next tick")


async def _sequence(head: Head, events: Sequence[Event], existing: dict[str, int]) -> Batch:
    """domain.sequence in chunks, yielding between them so replies and new requests are not
    held behind one long seal."""
    known, records, results = dict(existing), [], []
    for start in range(0, len(events), SEAL_CHUNK):
        if start:
            await asyncio.sleep(0)
        batch = sequence(head, events[start : start + SEAL_CHUNK], known)
        known.update((r.event.event_id, r.seq) for r in batch.records)
        records += batch.records
        results += batch.results
        head = batch.head
    return Batch(records, results, head)


def _share(
    outcome: list[AppendResult] | Exception, offset: int, count: int
) -> tuple[list[AppendResult], int]:
    mine = outcome[offset : offset + count] if isinstance(outcome, list) else []
    return mine, offset + count
