"""One WatchRecords stream's side of the tail (service.tail): what waits for it (a bounded
domain.watch.Backlog the tail fills without ever waiting), the records it asked for that the log
held before it joined (read by the stream itself, in pages, before what waits), and a HEARTBEAT
whenever it has had nothing to send for `heartbeat_s`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from services.audit.log.domain.records import Record
from services.audit.log.domain.watch import Backlog, Interest, Kind, Notice

PAGE = 500  # records per read, by the tail and by a stream catching up


class Source(Protocol):
    """The log as the tail reads it (service.tail.LogSource; a fake in the tests)."""

    async def last_seq(self) -> int: ...

    async def records(
        self, after: int, last: int, interests: Sequence[Interest], size: int
    ) -> list[Record]:
        """Up to `size` records with after < seq <= last matching one of `interests` (none:
        every record), in seq order."""
        ...


class Subscription:
    def __init__(
        self,
        source: Source,
        interest: Interest,
        backlog: Backlog,
        first: Notice,
        heartbeat_s: float,
        gap: tuple[int, int] | None = None,
    ) -> None:
        """`gap`: (after, last), the records the stream reads itself before what waits."""
        self.interest, self._source, self._backlog = interest, source, backlog
        self._first, self._gap, self._heartbeat_s = first, gap, heartbeat_s
        self._ready = asyncio.Event()
        self.closed = False

    def offer(self, records: list[Record], through: int) -> None:
        if self._backlog.offer(records, through, self.interest):
            self._ready.set()

    def restart(self, position: int) -> None:
        """The log went back to `position` (another database): a RESYNC from there."""
        self._backlog.resync(position)
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    def waiting(self) -> int:
        return len(self._backlog)

    async def notices(self) -> AsyncIterator[Notice]:
        """What to send, as it comes; ends at close()."""
        yield self._first
        if self._gap is not None:
            async for record in self._caught_up(*self._gap):
                yield Notice(Kind.RECORD, record.seq, record)
        while not self.closed:
            notice = self._backlog.take()
            if notice is not None:
                yield notice
                continue
            self._ready.clear()
            try:
                async with asyncio.timeout(self._heartbeat_s):
                    await self._ready.wait()
            except TimeoutError:
                yield Notice(Kind.HEARTBEAT, self._backlog.position)

    async def _caught_up(self, after: int, last: int) -> AsyncIterator[Record]:
        interests = [] if self.interest.everything else [self.interest]
        while after < last and not self.closed:
            page = await self._source.records(after, last, interests, PAGE)
            for record in page:
                yield record
            if len(page) < PAGE:
                return
            after = page[-1].seq
