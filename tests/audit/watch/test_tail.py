"""The tail's rules without a database: what waits for a slow reader (domain.watch.Backlog), how
a stream starts (at once, after the tail, or behind it), the fan-out through the tail's reads,
an outage that misses nothing, a log whose end went back, the cap and the end
(service.tail.Tail, reading a stand-in log), and the settings that bound them."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence

import pytest

from runtime.errors import ResourceExhausted, Unavailable
from runtime.settings import SettingsError
from services.audit.log.domain.records import Record
from services.audit.log.domain.watch import Backlog, Interest, Kind, Notice, WatchSettings
from services.audit.log.service.subscription import PAGE
from services.audit.log.service.tail import Tail
from services.audit.log.settings import watch_from_env
from tests.audit.factories import event

QUICK = WatchSettings(heartbeat_s=30, poll_s=0.01)
ACTIONS = Interest("action/", "ops.action.")


def record(seq: int, target: str = "action/1", action: str = "ops.action.approved") -> Record:
    return Record(seq, event(action, target=target), "0" * 64, "0" * 64, "0" * 64)


class Log:
    """Stands in for the log the tail reads (service.subscription.Source): records appended by
    the test; a read fails while `down`; every read's range and interests are kept."""

    def __init__(self) -> None:
        self.stored: list[Record] = []
        self.down = False
        self.reads: list[tuple[int, int, list[Interest]]] = []

    def append(self, count: int = 1, **fields: str) -> list[Record]:
        added = [record(len(self.stored) + n, **fields) for n in range(count)]
        self.stored += added
        return added

    async def last_seq(self) -> int:
        self._check()
        return len(self.stored) - 1

    async def records(
        self, after: int, last: int, interests: Sequence[Interest], size: int
    ) -> list[Record]:
        self._check()
        self.reads.append((after, last, list(interests)))
        found = [r for r in self.stored if after < r.seq <= last and _any(interests, r)]
        return found[:size]

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("server closed the connection unexpectedly")


def _any(interests: Sequence[Interest], found: Record) -> bool:
    return not interests or any(each.matches(found) for each in interests)


async def next_notice(notices: AsyncIterator[Notice]) -> Notice:
    return await asyncio.wait_for(anext(notices), 5)


async def seqs(notices: AsyncIterator[Notice], count: int) -> list[int]:
    return [(await next_notice(notices)).through_seq for _ in range(count)]


def test_a_slow_reader_gets_the_records_in_order_then_past_the_limit_one_resync() -> None:
    backlog = Backlog(limit=3, position=-1)
    first = record(0)
    backlog.offer([first, record(1, target="incident/2")], through=1, interest=ACTIONS)
    assert backlog.take() == Notice(Kind.RECORD, 0, first)
    assert backlog.take() is None
    assert backlog.position == 1

    backlog.offer([record(seq) for seq in range(2, 9)], through=12, interest=ACTIONS)
    assert len(backlog) == 1
    assert backlog.take() == Notice(Kind.RESYNC, 12)
    later = record(13)
    backlog.offer([record(12), later], through=13, interest=ACTIONS)
    assert backlog.take() == Notice(Kind.RECORD, 13, later)  # 12 was covered
    assert backlog.take() is None


@pytest.fixture
async def log() -> Log:
    return Log()


async def running(tail: Tail) -> asyncio.Task[None]:
    worker = asyncio.create_task(tail.run())
    await asyncio.sleep(0.05)  # the first read of the log's end
    return worker


async def test_a_stream_starts_where_the_tail_is_then_hears_what_matches_in_order(log: Log) -> None:
    log.append(3)
    tail = Tail(log, QUICK)
    worker = await running(tail)
    async with tail.subscribe(None, ACTIONS) as subscription:
        notices = subscription.notices()
        assert await next_notice(notices) == Notice(Kind.STARTED, 2)
        log.append(1, target="incident/9")
        wanted = log.append(2)
        tail.grew(len(log.stored))
        assert [await next_notice(notices), await next_notice(notices)] == [
            Notice(Kind.RECORD, r.seq, r) for r in wanted
        ]
    assert log.reads[-1][2] == [ACTIONS]  # only what a stream wants is read
    worker.cancel()


async def test_a_stream_behind_the_tail_reads_what_it_missed_first_across_pages(log: Log) -> None:
    log.append(PAGE + 20)
    tail = Tail(log, QUICK)
    worker = await running(tail)
    async with tail.subscribe(9, Interest()) as subscription:
        notices = subscription.notices()
        assert await next_notice(notices) == Notice(Kind.STARTED, 9)
        log.append(2)
        tail.grew(len(log.stored))
        assert await seqs(notices, PAGE + 12) == list(range(10, PAGE + 22))
    worker.cancel()


async def test_a_stream_opened_on_an_empty_log_resumes_from_minus_one_missing_nothing(
    log: Log,
) -> None:
    tail = Tail(log, QUICK)
    worker = await running(tail)
    async with tail.subscribe(None, Interest()) as first:
        assert await next_notice(first.notices()) == Notice(Kind.STARTED, -1)
    log.append(3)
    tail.grew(len(log.stored))
    await asyncio.sleep(0.05)
    async with tail.subscribe(-1, Interest()) as again:
        notices = again.notices()
        assert await next_notice(notices) == Notice(Kind.STARTED, -1)
        assert await seqs(notices, 3) == [0, 1, 2]
    worker.cancel()


async def test_a_stream_further_behind_than_the_replay_starts_with_a_resync(log: Log) -> None:
    log.append(30)
    tail = Tail(log, dataclasses.replace(QUICK, replay=10))
    worker = await running(tail)
    async with tail.subscribe(5, Interest()) as behind:
        assert await next_notice(behind.notices()) == Notice(Kind.RESYNC, 29)
    worker.cancel()


async def test_a_stream_after_a_seq_this_replica_has_not_read_yet_starts_there(log: Log) -> None:
    log.append(30)
    tail = Tail(log, dataclasses.replace(QUICK, poll_s=60))  # reads the head at start only
    worker = await running(tail)
    log.append(20)  # through another replica: this one has not seen them
    async with tail.subscribe(40, Interest()) as ahead:
        notices = ahead.notices()
        assert await next_notice(notices) == Notice(Kind.STARTED, 40)
        log.append(1)
        tail.grew(len(log.stored))
        assert await seqs(notices, 10) == list(range(41, 51))  # none up to the seq it asked after
    worker.cancel()


async def test_a_stream_after_a_seq_beyond_the_logs_end_starts_with_a_resync(log: Log) -> None:
    log.append(30)
    tail = Tail(log, QUICK)
    worker = await running(tail)
    async with tail.subscribe(4000, Interest()) as another_databases:  # or a mistaken seq
        notices = another_databases.notices()
        assert await next_notice(notices) == Notice(Kind.RESYNC, 29)
        log.append(1)
        tail.grew(len(log.stored))
        assert await seqs(notices, 1) == [30]
    worker.cancel()


async def test_after_an_outage_the_tail_reads_on_from_where_it_was_and_nothing_is_missed(
    log: Log,
) -> None:
    tail = Tail(log, QUICK)
    worker = await running(tail)
    async with tail.subscribe(None, Interest()) as subscription:
        notices = subscription.notices()
        assert await next_notice(notices) == Notice(Kind.STARTED, -1)
        log.down = True
        log.append(3)
        await asyncio.sleep(0.1)
        log.down = False
        assert await seqs(notices, 3) == [0, 1, 2]
    worker.cancel()


async def test_a_log_whose_end_went_back_makes_every_stream_resync_from_there(log: Log) -> None:
    log.append(10)
    tail = Tail(log, QUICK)
    worker = await running(tail)
    async with tail.subscribe(None, Interest()) as subscription:
        notices = subscription.notices()
        assert await next_notice(notices) == Notice(Kind.STARTED, 9)
        log.stored = log.stored[:4]  # another database, say, restored from a backup
        assert await next_notice(notices) == Notice(Kind.RESYNC, 3)
        log.append(1)
        assert await seqs(notices, 1) == [4]
    worker.cancel()


async def test_a_quiet_stream_hears_a_heartbeat_saying_how_far_it_is(log: Log) -> None:
    log.append(5, target="incident/1")
    tail = Tail(log, dataclasses.replace(QUICK, heartbeat_s=0.2))
    worker = await running(tail)
    async with tail.subscribe(None, ACTIONS) as subscription:
        notices = subscription.notices()
        await next_notice(notices)
        log.append(3, target="incident/1")
        assert await next_notice(notices) == Notice(Kind.HEARTBEAT, 7)
    worker.cancel()


async def test_past_the_cap_a_stream_is_refused_and_a_closed_tail_ends_and_refuses_all(
    log: Log,
) -> None:
    tail = Tail(log, dataclasses.replace(QUICK, max_subscribers=1))
    worker = await running(tail)
    async with tail.subscribe(None, Interest()) as only:
        with pytest.raises(ResourceExhausted):
            async with tail.subscribe(None, Interest()):
                pass
        notices = only.notices()
        await next_notice(notices)
        waiting = asyncio.create_task(anext(notices, None))
        await asyncio.sleep(0)
        tail.close()
        assert await asyncio.wait_for(waiting, 5) is None  # the stream ends
    with pytest.raises(Unavailable, match="stopping"):
        async with tail.subscribe(None, Interest()):
            pass
    worker.cancel()


async def test_a_tail_that_never_read_the_log_turns_streams_away(log: Log) -> None:
    log.down = True
    tail = Tail(log, dataclasses.replace(QUICK, heartbeat_s=0.1))
    worker = await running(tail)
    with pytest.raises(Unavailable, match="not read the log"):
        async with tail.subscribe(None, Interest()):
            pass
    worker.cancel()


def test_the_watch_settings_have_defaults_and_refuse_what_is_not_positive() -> None:
    assert watch_from_env({}) == WatchSettings(1000, 1000, 10.0, 0.25, 100_000)
    named = {"TRADEOPS_AUDIT_WATCH_MAX_SUBSCRIBERS": "5", "TRADEOPS_AUDIT_WATCH_POLL_S": "0.5"}
    assert watch_from_env(named) == WatchSettings(max_subscribers=5, poll_s=0.5)
    for name, value in [("BACKLOG", "0"), ("REPLAY", "1.5"), ("HEARTBEAT_S", "nan")]:
        with pytest.raises(SettingsError, match=f"TRADEOPS_AUDIT_WATCH_{name}"):
            watch_from_env({f"TRADEOPS_AUDIT_WATCH_{name}": value})
