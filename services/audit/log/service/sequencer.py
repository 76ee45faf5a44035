"""The one writer of the log. Callers submit validated events; a single task takes everything
queued so far (up to MAX_EVENTS_PER_COMMIT) and commits it as one batch under the head row lock
(which also serialises writers in other replicas): seq, prev_hash, leaf hash, the Merkle nodes
it completes, and a signed checkpoint when one is due.

Commits are pipelined: while one is in flight, the worker drains the next group and seals it
on the tip the commit in flight will leave (see sealing.py), so sealing overlaps the database's
work; one transaction is open at a time, and a guess that turns out wrong is sealed again.

`append` answers only after the commit, so an acknowledged event is durable; a failed commit
fails every caller of that batch, and retrying is safe because appends are idempotent on
event_id. `enqueue` is for the service's own read-audit events: nobody waits, so a crash can
lose those of the commit in flight and of the queue, never an acknowledged event. The waiting
callers are queue.py's; `run` is started by __main__ as a worker, beside the checkpoint timer
(workers/checkpointer.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from runtime.db import Database
from services.audit.log.domain.checkpoints.cutting import Checkpointer
from services.audit.log.domain.merkle.cache import TreeCache
from services.audit.log.domain.merkle.memory import TreeMemory
from services.audit.log.domain.records import AppendResult, Event
from services.audit.log.repository import appends
from services.audit.log.repository.head import lock_head
from services.audit.log.service.queue import AppendQueue, Waiting
from services.audit.log.service.sealing import (
    Committed,
    Sealed,
    Tip,
    cut_if_due,
    frontier_at,
    seal,
    write,
)

log = logging.getLogger(__name__)
# A cap only under load (a group holds what is queued): each commit pays fixed costs (round
# trips, the WAL flush, a checkpoint) that bound the rate when groups are small: at 1000 a
# commit took ~50 ms and capped appends near 18,000/s; 2000 reached ~24,000/s with commits of
# ~70 ms. 3000 did worse with the benchmark's 8 callers of 500 (groups alternated 3000/1000,
# leaving nothing queued to seal ahead while a commit was in flight).
MAX_EVENTS_PER_COMMIT = 2000


class Sequencer:
    def __init__(
        self,
        db: Database,
        checkpointer: Checkpointer,
        cache: TreeCache | None = None,
        memory: TreeMemory | None = None,
        grew: Callable[[int], None] = lambda size: None,
    ) -> None:
        """`grew(size)` is told the log's size after each commit (the watch tail's wake-up)."""
        self._db, self.checkpointer, self._grew = db, checkpointer, grew
        self.cache = cache or TreeCache()
        self.memory = memory or TreeMemory()
        self._waiting = AppendQueue(MAX_EVENTS_PER_COMMIT)
        self._committed: Tip | None = None  # after this sequencer's last commit, if it knows
        self._ahead: Tip | None = None  # what the commit in flight will leave, if it knows
        self.committed_at = float("-inf")  # time.monotonic() of its last commit

    async def append(self, events: Sequence[Event]) -> list[AppendResult]:
        if not events:
            return []
        return await self._waiting.submit(events)

    def enqueue(self, events: Sequence[Event]) -> None:
        """Queues events for the next commit and returns at once (read-audit events only)."""
        if events:
            self._waiting.enqueue(events)

    async def settled(self) -> None:
        """Returns once everything enqueued before the call is committed (or given up)."""
        await self._waiting.settled()

    async def run(self) -> None:
        """The worker: one commit per drained group, until cancelled. The next group is sealed
        while the previous commit is in flight. When cancelled, the commit in flight and a group
        already taken are committed first, so a stop never abandons callers it took."""
        flight: asyncio.Future[None] | None = None
        taken: list[Waiting] = []
        try:
            while True:
                await self._next_group_due(flight)
                taken = await self._waiting.drain()
                events = [e for w in taken for e in w.events]
                ahead = await self._seal_ahead(events, self._ahead if flight else self._committed)
                if flight is not None:
                    await asyncio.shield(flight)
                if ahead is None or ahead.base != self._committed:
                    ahead = await self._seal_ahead(events, self._committed)
                self._ahead = ahead.after if ahead is not None else None
                flight = asyncio.ensure_future(self._settle_group(taken, events, ahead))
                taken = []
        except asyncio.CancelledError:
            if flight is not None:
                await flight
            if taken:
                await self._settle_group(taken, [e for w in taken for e in w.events], None)
            raise

    async def _next_group_due(self, flight: asyncio.Future[None] | None) -> None:
        """With a commit in flight, the next group is taken early (to be sealed ahead) only once
        the queue can fill a commit; otherwise when the flight lands, so that the group holds
        everything that arrived meanwhile: at a moderate rate, fewer and fuller commits answer
        sooner than many small ones, each paying the round trips and the fsync."""
        if flight is None or flight.done() or self._waiting.queued >= MAX_EVENTS_PER_COMMIT:
            return
        filled = self._waiting.filled()
        either: set[asyncio.Future[Any]] = {flight, filled}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            filled.cancel()

    async def _seal_ahead(self, events: list[Event], tip: Tip | None) -> Sealed | None:
        if tip is None or not events:
            return None
        try:
            # Sealed as if no id were logged yet: the check under the lock says otherwise if so.
            return await seal(tip, events, {})
        except Exception:
            # Sealed again inside the commit, whose failure then reaches the callers.
            log.exception("sealing ahead failed")
            return None

    async def _settle_group(
        self, group: list[Waiting], events: list[Event], ahead: Sealed | None
    ) -> None:
        try:
            results = await self._commit(events, ahead) if events else []
        except Exception as exc:
            log.exception("audit batch of %d events failed", len(events))
            self._committed = None
            self._waiting.answer(group, exc)
            return
        self._waiting.answer(group, results)

    async def _commit(self, events: Sequence[Event], ahead: Sealed | None) -> list[AppendResult]:
        ids = list(dict.fromkeys(event.event_id for event in events))
        async with self._db.transaction() as session:
            conn = await appends.connection(session)
            head, existing = await appends.lock_and_find(conn, ids)
            sealed = ahead
            if sealed is None or not sealed.fits(head, existing):
                frontier = await frontier_at(session, self.cache, head.size)
                sealed = await seal(Tip(head, frontier), events, existing)
            done = await write(session, conn, sealed, self.checkpointer)
        self._committed, self.committed_at = sealed.after, time.monotonic()
        self._learn(done)
        self._grew(done.size)
        return sealed.batch.results

    async def checkpoint_if_due(self) -> None:
        """The timer's path (workers/checkpointer.py): cut a checkpoint for records that arrived
        since the last one."""
        async with self._db.transaction() as session:
            locked = await lock_head(session)
            cut = await cut_if_due(session, self.cache, locked.size, self.checkpointer)
        self._learn(Committed(locked.size, {}, {}, cut))

    def _learn(self, done: Committed) -> None:
        """Only now, after the commit, may its nodes and checkpoint enter the cache."""
        self.cache.add_nodes(done.frontier)
        self.cache.add_nodes(done.upper)
        # Refused while the store lags behind (loading); its loader then reads these leaves.
        self.memory.extend(done.size - len(done.leaves), done.leaves)
        self.cache.saw_size(done.size)
        if done.checkpoint is not None:
            self.cache.set_latest(done.checkpoint)
