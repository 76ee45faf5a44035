"""The callers waiting for the sequencer: each submission is a group of events and, unless it
was only enqueued, a future its caller awaits. The sequencer drains the queue a commit's worth
at a time and answers every submission it took with its share of the results, or the failure."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from services.audit.log.domain.records import AppendResult, Event


@dataclass
class Waiting:
    events: Sequence[Event]
    done: asyncio.Future[list[AppendResult]] | None  # None: enqueued, nobody waits


class AppendQueue:
    def __init__(self, commit_size: int) -> None:
        self._commit_size = commit_size
        self._queue: asyncio.Queue[Waiting] = asyncio.Queue()
        self.queued = 0  # events in the queue
        self._full = asyncio.Event()  # set once the queue holds a whole commit's worth
        self._unsettled = 0  # enqueued events not yet committed (or given up)

    async def submit(self, events: Sequence[Event]) -> list[AppendResult]:
        waiting = Waiting(events, asyncio.get_running_loop().create_future())
        self._put(waiting)
        assert waiting.done is not None
        return await waiting.done

    def enqueue(self, events: Sequence[Event]) -> None:
        self._unsettled += 1
        self._put(Waiting(events, None))

    async def settled(self) -> None:
        """Returns once everything enqueued before the call is committed (or given up)."""
        if self._unsettled:
            await self.submit([])

    def _put(self, waiting: Waiting) -> None:
        self._queue.put_nowait(waiting)
        self.queued += len(waiting.events)
        if self.queued >= self._commit_size:
            self._full.set()

    def filled(self) -> asyncio.Future[bool]:
        """Resolves once the queue holds a whole commit's worth from now on."""
        self._full.clear()
        return asyncio.ensure_future(self._full.wait())

    async def drain(self) -> list[Waiting]:
        """Waits for a submission, then takes what is queued, up to a commit's worth."""
        group = [await self._queue.get()]
        count = len(group[0].events)
        while count < self._commit_size and not self._queue.empty():
            group.append(self._queue.get_nowait())
            count += len(group[-1].events)
        self.queued -= count
        return group

    def answer(self, group: list[Waiting], outcome: list[AppendResult] | Exception) -> None:
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


def _share(
    outcome: list[AppendResult] | Exception, offset: int, count: int
) -> tuple[list[AppendResult], int]:
    mine = outcome[offset : offset + count] if isinstance(outcome, list) else []
    return mine, offset + count
