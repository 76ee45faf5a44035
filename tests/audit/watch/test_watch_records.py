"""WatchRecords between real audit processes on a real PostgreSQL: a record committed through
either replica reaches the watchers of both (through its own replica at once, through the other
within the head poll), filtered, in seq order and once, across the tail's pages and a stream's
own catch-up; a stream resumes from its last through_seq; opening one is an audited read."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from runtime.clients import bearer, open_channel
from runtime.pgserver import LocalPostgres
from runtime.stack import Stack
from tests.audit.watch.conftest import Stubs, action_target, append, ops_event
from tests.audit.watch.replicas import audit_processes
from tests.audit.watch.watcher import Notice, Watcher, watching
from tests.keys import Keys
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

Tokens = Callable[..., str]
OTHER_REPLICA_S = 1.0  # the head is polled every 250 ms
REPLAY = 50


@pytest.fixture(scope="module")
def lone(
    own_pg: LocalPostgres, tmp_path_factory: pytest.TempPathFactory, keys: Keys
) -> Iterator[Stack]:
    """One replica that reads the log's head once a minute: what it sends at once came from
    its own sequencer's wake-up."""
    home = tmp_path_factory.mktemp("watch-lone")
    with audit_processes(own_pg, home, keys, POLL_S="60", REPLAY=str(REPLAY)) as stack:
        yield stack


async def test_a_record_appended_through_the_watchers_own_replica_arrives_at_once(
    lone: Stack, token_for: Tokens
) -> None:
    async with open_channel(lone.replicas("audit")["audit"]) as channel:
        audit = pb_grpc.AuditServiceStub(channel)
        async with watching(audit, bearer(token_for("vic", "viewer"))) as vic:
            took = []
            for _ in range(5):
                sent = time.monotonic()
                [seq] = await append(audit, token_for, ops_event(action_target()))
                await vic.record(seq, within=5)
                took.append(vic.arrived[seq] - sent)

    assert max(took) < 1.0  # far sooner than the next head poll, a minute away


async def test_a_record_appended_through_another_replica_arrives_within_a_second(
    stub_of: Stubs, token_for: Tokens
) -> None:
    one, two = stub_of("audit-1"), stub_of("audit-2")
    viewer = bearer(token_for("vic", "viewer"))
    async with watching(one, viewer) as on_one, watching(two, viewer) as on_two:
        took = []
        for writer, watcher in ((two, on_one), (one, on_two)) * 3:
            sent = time.monotonic()
            [seq] = await append(writer, token_for, ops_event(action_target()))
            await watcher.record(seq, within=5)
            took.append(watcher.arrived[seq] - sent)

    assert max(took) < OTHER_REPLICA_S


async def test_a_watcher_gets_only_the_records_its_prefixes_match(
    stub_of: Stubs, token_for: Tokens
) -> None:
    action = action_target()
    wanted = {"target_prefix": action, "action_prefix": "ops.action.vote"}
    viewer = bearer(token_for("vic", "viewer"))
    async with watching(stub_of("audit-1"), viewer, **wanted) as vic:
        seqs = await append(
            stub_of("audit-2"),
            token_for,
            ops_event(action, "ops.action.vote_recorded"),
            ops_event(action, "ops.action.approved"),
            ops_event(action_target(), "ops.action.vote_recorded"),
            ops_event(action, "ops.action.vote_recorded"),
        )
        await vic.record(seqs[3])

    assert [r.seq for r in vic.records()] == [seqs[0], seqs[3]]
    assert {(r.event.target, r.event.action) for r in vic.records()} == {
        (action, "ops.action.vote_recorded")
    }


async def test_records_come_in_order_and_once_across_the_tails_pages_and_a_catch_up(
    stub_of: Stubs, token_for: Tokens
) -> None:
    prefix = f"{action_target()}/"
    many = [ops_event(f"{prefix}{n}", payload=f'{{"n":{n}}}') for n in range(1200)]  # > 2 pages
    viewer = bearer(token_for("vic", "viewer"))
    async with watching(stub_of("audit-1"), viewer, target_prefix=prefix) as live:
        seqs = await append(stub_of("audit-2"), token_for, *many[:600])  # at most 1000 a call
        seqs += await append(stub_of("audit-2"), token_for, *many[600:])
        await live.record(seqs[-1], within=30)
        async with watching(
            stub_of("audit-2"), viewer, target_prefix=prefix, after_seq=seqs[0] - 1
        ) as late:
            await late.record(seqs[-1], within=30)

    for watcher in (live, late):
        assert [r.seq for r in watcher.records()] == seqs
        assert [r.event.event_id for r in watcher.records()] == [e.event_id for e in many]
    assert [m.type for m in late.log if m.type != Notice.TYPE_RECORD] == [Notice.TYPE_STARTED]


async def test_a_stream_opened_again_from_its_last_through_seq_misses_nothing(
    stub_of: Stubs, token_for: Tokens
) -> None:
    audit, prefix = stub_of("audit-1"), action_target()
    viewer = bearer(token_for("vic", "viewer"))
    async with watching(audit, viewer, target_prefix=prefix) as first:
        [seen] = await append(audit, token_for, ops_event(prefix))
        await first.record(seen)
        heartbeat = await first.first(lambda m: m.type == Notice.TYPE_HEARTBEAT)
    missed = await append(audit, token_for, *(ops_event(prefix) for _ in range(3)))
    async with watching(
        stub_of("audit-2"), viewer, target_prefix=prefix, after_seq=heartbeat.through_seq
    ) as again:
        await again.record(missed[-1])

    assert heartbeat.through_seq >= seen
    assert [r.seq for r in again.records()] == missed


async def test_a_stream_asking_for_more_than_the_replay_holds_starts_with_a_resync(
    lone: Stack, token_for: Tokens
) -> None:
    async with open_channel(lone.replicas("audit")["audit"]) as channel:
        audit = pb_grpc.AuditServiceStub(channel)
        seqs = await append(audit, token_for, *(ops_event(action_target()) for _ in range(60)))
        watcher = Watcher(audit, bearer(token_for("vic", "viewer")), after_seq=seqs[0] - 1)
        first = await watcher.first(lambda m: True)
        after = await append(audit, token_for, ops_event(action_target()))
        await watcher.record(after[0])
        watcher.call.cancel()

    assert first.type == Notice.TYPE_RESYNC
    assert first.through_seq >= seqs[-1]
    assert watcher.records()[0].seq > first.through_seq


async def test_opening_a_stream_is_one_audited_read_naming_what_it_asked(
    stub_of: Stubs, token_for: Tokens
) -> None:
    reads = {"target_prefix": "log/audit", "action_prefix": "audit.records.watched"}
    prefix, reader = action_target(), f"vic-{uuid.uuid4()}"  # no earlier read of theirs
    async with watching(stub_of("audit-1"), bearer(token_for("ada", "admin")), **reads) as ada:
        vic = bearer(token_for(reader, "viewer"))
        async with watching(stub_of("audit-2"), vic, target_prefix=prefix) as watched:
            await append(stub_of("audit-2"), token_for, *(ops_event(prefix) for _ in range(3)))
            await watched.first(lambda m: m.type == Notice.TYPE_RECORD)
        noted = await ada.first(lambda m: m.record.event.actor.subject == reader)
        await append(stub_of("audit-2"), token_for, ops_event(action_target()))
        await ada.first(lambda m: m.type == Notice.TYPE_HEARTBEAT)

    assert json.loads(noted.record.event.payload_json) == {
        "after_seq": None,
        "target_prefix": prefix,
        "action_prefix": "",
    }
    by_vic = [r for r in ada.records() if r.event.actor.subject == reader]
    assert len(by_vic) == 1  # one read, however many records the stream carried
