"""The tail of the log that one audit process serves its WatchRecords streams from, shared by
all of them. It learns that the log grew from this process's own sequencer at once (`grew`, an
in-process call after each commit: nothing else on the append path) and from the log's head
every `poll_s` (other replicas' commits; no NOTIFY, which would serialise every commit). It
reads the new records once, in pages, only those some stream wants, and offers each stream its
share (service.subscription): offering never waits for a reader, so a stalled one delays nobody
and what waits for it stays bounded.

The tail knows the last seq it has offered, so after a database outage it reads on from there
and no stream misses a record; only a head that went back (another database) makes every stream
RESYNC. A stream may start behind the tail, by up to `replay` records: it reads those itself.
At most `max_subscribers` streams (ResourceExhausted past it); close(), at the graceful stop,
ends every stream and refuses new ones."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from runtime.backoff import Backoff
from runtime.errors import ResourceExhausted, Unavailable
from services.audit.log.domain.watch import Backlog, Interest, Kind, Notice, WatchSettings
from services.audit.log.service.subscription import PAGE, Source, Subscription

log = logging.getLogger(__name__)
RETRY = Backoff(first_s=0.25, cap_s=5.0, floor=0.5)
MOST_INTERESTS = 16  # beyond this many distinct ones the tail reads every record


class Tail:
    def __init__(self, source: Source, settings: WatchSettings) -> None:
        self._source, self._settings = source, settings
        self._subscriptions: set[Subscription] = set()
        self._offered = self._claimed = -1  # read and offered up to; being read up to
        self._known = asyncio.Event()  # set once the log's end was read
        self._grown, self._hint = asyncio.Event(), -1
        self._closed = False

    def grew(self, size: int) -> None:
        """The sequencer's call after each commit: the log now holds `size` records."""
        self._hint = max(self._hint, size - 1)
        self._grown.set()

    @asynccontextmanager
    async def subscribe(
        self, after_seq: int | None, interest: Interest
    ) -> AsyncIterator[Subscription]:
        """A stream of the records after after_seq (None: from now on) that `interest` wants."""
        self._admit()
        try:
            async with asyncio.timeout(self._settings.heartbeat_s):
                await self._known.wait()
        except TimeoutError:
            raise Unavailable("this replica has not read the log yet; retry soon") from None
        beyond = await self._beyond(after_seq)
        self._admit()
        subscription = self._start(after_seq, interest, beyond)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    async def _beyond(self, after_seq: int | None) -> bool:
        """Whether after_seq is past the log's end (a seq of another database, or a mistake);
        past this replica's end only, it is a record another replica committed."""
        if after_seq is None or after_seq <= self._claimed:
            return False
        return after_seq > await self._source.last_seq()

    def close(self) -> None:
        """Ends every stream and refuses new ones (the graceful stop's drain)."""
        self._closed = True
        for subscription in self._subscriptions:
            subscription.close()

    async def run(self) -> None:
        """The worker: follows the log's end until cancelled, reading on after failures."""
        failures, polled = 0, float("-inf")
        while True:
            loop = asyncio.get_running_loop()
            if failures == 0:
                await self._pause(polled + self._settings.poll_s - loop.time())
            self._grown.clear()
            try:
                if loop.time() - polled >= self._settings.poll_s or not self._known.is_set():
                    last = await self._source.last_seq()
                    polled = loop.time()
                    await self._follow(last, head=True)
                else:
                    await self._follow(self._hint, head=False)
            except Exception as exc:
                log.warning("watch tail: reading the log failed (%s); reading on soon", exc)
                await asyncio.sleep(RETRY.wait(failures))
                failures += 1
                continue
            if failures:
                log.info("watch tail: reading the log again after seq %d", self._offered)
            failures = 0

    async def _pause(self, seconds: float) -> None:
        if seconds > 0 and not self._grown.is_set():
            try:
                async with asyncio.timeout(seconds):
                    await self._grown.wait()
            except TimeoutError:
                pass

    async def _follow(self, last: int, *, head: bool) -> None:
        if not self._known.is_set():
            self._offered = self._claimed = last
            self._known.set()
            log.info("watch tail: following the log after seq %d", last)
            return
        if head and last < self._claimed:
            self._restart(last)
            return
        self._claimed = max(self._claimed, last)
        watching = tuple(self._subscriptions)
        if not watching:
            self._offered = max(self._offered, last)
            return
        interests = _union(each.interest for each in watching)
        while self._offered < last:
            page = await self._source.records(self._offered, last, interests, PAGE)
            through = page[-1].seq if len(page) == PAGE else last
            for each in watching:
                each.offer(page, through)
            self._offered = through

    def _restart(self, last: int) -> None:
        log.warning(
            "watch tail: the log's end went back from seq %d to %d; %d streams resync",
            self._claimed,
            last,
            len(self._subscriptions),
        )
        self._offered = self._claimed = last
        for each in self._subscriptions:
            each.restart(last)

    def _admit(self) -> None:
        if self._closed:
            raise Unavailable("the server is stopping; watch another replica")
        if len(self._subscriptions) >= self._settings.max_subscribers:
            raise ResourceExhausted(
                f"{self._settings.max_subscribers} streams already watch this replica; "
                "retry later or on another"
            )

    def _start(self, after_seq: int | None, interest: Interest, beyond: bool) -> Subscription:
        """A stream from now on, from after the tail (its records follow), or from behind it by
        up to `replay` records (it reads those first); `beyond` the log's end, a RESYNC."""
        now, settings = self._claimed, self._settings
        gap: tuple[int, int] | None = None
        if after_seq is None or (after_seq >= now and not beyond):
            first = Notice(Kind.STARTED, now if after_seq is None else after_seq)
        elif beyond or now - after_seq > settings.replay:
            first = Notice(Kind.RESYNC, now)
        else:
            first, gap = Notice(Kind.STARTED, after_seq), (after_seq, now)
        backlog = Backlog(settings.backlog, first.through_seq if gap is None else now)
        return Subscription(self._source, interest, backlog, first, settings.heartbeat_s, gap)

    def streams(self) -> int:
        return len(self._subscriptions)

    def waiting(self) -> int:
        # Called from the scrape's thread: a copy (made at once, under the GIL) is iterated.
        return sum(each.waiting() for each in tuple(self._subscriptions))


def _union(interests: Iterable[Interest]) -> list[Interest]:
    """What the tail reads for all its streams; empty: every record."""
    wanted = set(interests)
    if len(wanted) > MOST_INTERESTS or any(each.everything for each in wanted):
        return []
    return sorted(wanted, key=lambda each: (each.target_prefix, each.action_prefix))
