"""What bounds WatchRecords: a reader that stalls holds back no other and what waits for it
stays bounded; a replica serves at most TRADEOPS_AUDIT_WATCH_MAX_SUBSCRIBERS streams; the
graceful stop ends every stream with OK; callers are refused exactly as ListRecords refuses
them."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path

import grpc
import httpx

from runtime.clients import bearer, open_channel
from runtime.grpc_server import GRACE_S
from runtime.keys import ISSUER, SigningKey
from runtime.pgserver import LocalPostgres
from runtime.settings import AuthSettings
from runtime.stack import Stack
from runtime.token_claims import service_audience
from runtime.tokens import mint_person_token, mint_service_token
from tests.audit.watch.conftest import Stubs, action_target, append, ops_event
from tests.audit.watch.replicas import audit_processes
from tests.audit.watch.watcher import Notice, Watcher, watching
from tests.keys import Keys
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

Tokens = Callable[..., str]
Metadata = Sequence[tuple[str, str]]
Stream = grpc.aio.UnaryStreamCall[pb.WatchRecordsRequest, pb.RecordNotice]
BACKLOG = 8
RECORDS = 60  # far more than the stalled stream's transport and backlog hold together
PAYLOAD = '{"note":"' + "x" * 2000 + '"}'  # a stalled transport fills in a few records
# A client that grants the server almost no flow-control window and never grows it: the
# server's writes to it stop after about a kilobyte, as they would for a stalled reader.
STALLING = [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 1024)]


def gauge(stack: Stack, name: str) -> float:
    text = httpx.get(stack.metrics_url("audit"), timeout=5).text
    found = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    assert found, f"{name} not in the scrape"
    return float(found.group(1))


async def test_a_watcher_that_never_reads_holds_back_nobody_and_what_waits_for_it_is_bounded(
    own_pg: LocalPostgres, tmp_path: Path, keys: Keys, token_for: Tokens
) -> None:
    viewer, prefix = bearer(token_for("vic", "viewer")), action_target()
    with audit_processes(own_pg, tmp_path, keys, BACKLOG=str(BACKLOG)) as lone:
        address = lone.replicas("audit")["audit"]
        async with (
            grpc.aio.insecure_channel(address, options=STALLING) as slow,
            open_channel(address) as channel,
        ):
            audit = pb_grpc.AuditServiceStub(channel)
            request = pb.WatchRecordsRequest(target_prefix=prefix)
            stalled = pb_grpc.AuditServiceStub(slow).WatchRecords(request, metadata=viewer)
            first = await stalled.read()
            assert isinstance(first, Notice)
            assert first.type == Notice.TYPE_STARTED
            async with watching(audit, viewer, target_prefix=prefix) as reader:
                seqs = []
                for _ in range(RECORDS):  # one commit each: the reader keeps up
                    seqs += await append(audit, token_for, ops_event(prefix, payload=PAYLOAD))
                    await reader.record(seqs[-1], within=5)
                watchers = gauge(lone, "tradeops_audit_watchers")
                waiting = gauge(lone, "tradeops_audit_watch_backlog")
            late = await _until_resync(stalled)

    assert [r.seq for r in reader.records()] == seqs
    assert watchers >= 2
    assert waiting <= BACKLOG + 1  # the stalled stream's: at most BACKLOG records or a resync
    assert late[-1].type == Notice.TYPE_RESYNC
    assert 0 < len(late) - 1 < RECORDS  # what the transport held before the stall
    assert [m.record.seq for m in late[:-1]] == seqs[: len(late) - 1]
    assert late[-1].through_seq >= seqs[-1]  # where the stream goes on from


async def _until_resync(call: Stream) -> list[Notice]:
    """What a stalled stream reads once it reads again, up to its first RESYNC (heartbeats left
    out); what it read by then if none came within 15 s."""
    read: list[Notice] = []
    with suppress(TimeoutError):
        async with asyncio.timeout(15):
            while not read or read[-1].type != Notice.TYPE_RESYNC:
                message = await call.read()
                assert isinstance(message, Notice)
                if message.type != Notice.TYPE_HEARTBEAT:
                    read.append(message)
    return read


async def test_a_replica_refuses_streams_past_its_cap_and_takes_them_again_once_some_leave(
    own_pg: LocalPostgres, tmp_path: Path, keys: Keys, token_for: Tokens
) -> None:
    viewer = bearer(token_for("vic", "viewer"))
    with audit_processes(own_pg, tmp_path, keys, MAX_SUBSCRIBERS="2") as lone:
        async with open_channel(lone.replicas("audit")["audit"]) as channel:
            audit = pb_grpc.AuditServiceStub(channel)
            async with watching(audit, viewer) as first, watching(audit, viewer):
                refused = Watcher(audit, viewer)
                assert await refused.ended() == grpc.StatusCode.RESOURCE_EXHAUSTED
                [seq] = await append(audit, token_for, ops_event(action_target()))
                await first.record(seq)
            assert "2 streams already watch this replica" in refused.details
            assert refused.log == []
            again = await _admitted(audit, viewer)
            again.call.cancel()


async def _admitted(audit: pb_grpc.AuditServiceAsyncStub, viewer: Metadata) -> Watcher:
    """A watcher admitted as soon as the replica has seen the others leave."""
    deadline = time.monotonic() + 15
    while True:
        watcher = Watcher(audit, viewer)
        try:
            await watcher.started(within=2)
            return watcher
        except AssertionError:
            watcher.call.cancel()
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_the_graceful_stop_ends_every_stream_with_ok_at_once(
    own_pg: LocalPostgres, tmp_path: Path, keys: Keys, token_for: Tokens
) -> None:
    viewer = bearer(token_for("vic", "viewer"))
    with audit_processes(own_pg, tmp_path, keys) as lone:
        process = lone.procs["audit"]
        async with open_channel(lone.replicas("audit")["audit"]) as channel:
            audit = pb_grpc.AuditServiceStub(channel)
            async with watching(audit, viewer) as one, watching(audit, viewer) as two:
                stopping = time.monotonic()
                stopped = asyncio.create_task(asyncio.to_thread(lone.stop_one, "audit"))
                codes = [await one.ended(), await two.ended()]
                took = time.monotonic() - stopping
                await stopped

    assert codes == [grpc.StatusCode.OK] * 2
    assert took < GRACE_S / 2  # not cancelled at the end of the grace: ended by the drain
    assert process.returncode == 0


async def test_a_caller_is_refused_as_list_records_refuses_it(
    stub_of: Stubs, token_for: Tokens, keys: Keys, auth_settings: AuthSettings
) -> None:
    audit = stub_of("audit-1")
    stranger = SigningKey.generate(ISSUER)  # well-formed, from a key nobody pinned
    elsewhere = [service_audience(auth_settings, "export")]  # a token for another service only
    callers = {
        "no token": (),
        "not a token": bearer("not.a.jwt"),
        "forged": bearer(mint_person_token(stranger, auth_settings, "mallory", ["admin"])),
        "no role": bearer(token_for("nora")),
        "for export": bearer(mint_service_token(keys.key("md"), "md", "svc:md", elsewhere)),
    }
    for who, metadata in callers.items():
        watcher = Watcher(audit, metadata)
        refused = await watcher.ended()
        listing = audit.ListRecords(pb.ListRecordsRequest(after_seq=-1), metadata=metadata)
        try:
            await listing
            listed = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as exc:
            listed = exc.code()
        assert (who, refused) == (who, listed)
        assert refused in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
        assert watcher.log == []


async def test_a_stream_asking_the_impossible_is_refused_before_it_starts(
    stub_of: Stubs, token_for: Tokens
) -> None:
    viewer = bearer(token_for("vic", "viewer"))
    asked: list[dict[str, str | int]] = [
        {"after_seq": -2},
        {"target_prefix": "a" * 257},
        {"action_prefix": "ops\x00"},
    ]
    for each in asked:
        watcher = Watcher(stub_of("audit-1"), viewer, **each)
        assert await watcher.ended() == grpc.StatusCode.INVALID_ARGUMENT
        assert watcher.log == []
