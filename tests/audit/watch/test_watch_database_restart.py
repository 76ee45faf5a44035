"""PostgreSQL restarted under open WatchRecords streams: no stream breaks or resyncs, each
replica's tail reads on from the last seq it offered once the database answers again, and the
records appended before, and as soon as it is back, reach every watcher once, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from runtime.clients import bearer, open_channel
from runtime.pgserver import LocalPostgres
from runtime.stack import Stack
from tests.audit.watch.conftest import action_target, append, audit_pg, ops_event
from tests.audit.watch.replicas import audit_processes
from tests.audit.watch.watcher import Notice, watching
from tests.keys import Keys
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

Tokens = Callable[..., str]
BACK_WITHIN_S = 30.0  # the tail retries at most every 5 s (services.audit.log.service.tail)


@pytest.fixture
def restarted_pg(tmp_path: Path) -> Iterator[LocalPostgres]:
    """A database of this test's own: stopping it must not disturb the other tests' servers."""
    with audit_pg(tmp_path / "pg") as server:
        yield server


async def test_after_postgresql_restarts_every_stream_goes_on_and_misses_nothing(
    restarted_pg: LocalPostgres, tmp_path: Path, keys: Keys, token_for: Tokens
) -> None:
    viewer, prefix = bearer(token_for("vic", "viewer")), action_target()
    with audit_processes(restarted_pg, tmp_path, keys, replicas=2, HEARTBEAT_S="1") as stack:
        addresses = stack.replicas("audit")
        async with (
            open_channel(addresses["audit-1"]) as one_channel,
            open_channel(addresses["audit-2"]) as two_channel,
        ):
            one, two = pb_grpc.AuditServiceStub(one_channel), pb_grpc.AuditServiceStub(two_channel)
            async with (
                watching(one, viewer, target_prefix=prefix) as on_one,
                watching(two, viewer, target_prefix=prefix) as on_two,
            ):
                before = await append(one, token_for, ops_event(prefix), ops_event(prefix))
                await asyncio.to_thread(restarted_pg.stop)  # pg_ctl stop -m fast: every session cut
                alive = await on_one.first(lambda m: m.type == Notice.TYPE_HEARTBEAT)
                await asyncio.to_thread(restarted_pg.start)
                after = await _appended_once_back(one, token_for, prefix)
                for watcher in (on_one, on_two):
                    await watcher.record(after[-1], within=BACK_WITHIN_S)
                    assert not watcher.task.done()
                await _ready(stack)

    assert alive.through_seq >= before[-1]  # heard while the database was away
    for watcher in (on_one, on_two):
        assert [r.seq for r in watcher.records()] == before + after
        assert Notice.TYPE_RESYNC not in [m.type for m in watcher.log]


async def _appended_once_back(
    audit: pb_grpc.AuditServiceAsyncStub, token_for: Tokens, prefix: str
) -> list[int]:
    """Three records, appended as soon as the database takes them (a pooled connection the
    restart killed fails a call or two with UNAVAILABLE)."""
    events = [ops_event(prefix) for _ in range(3)]
    for _ in range(50):
        try:
            return await append(audit, token_for, *events)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            await asyncio.sleep(0.2)
    return await append(audit, token_for, *events)


async def _ready(stack: Stack) -> None:
    for name in stack.replicas("audit"):
        await asyncio.to_thread(stack.wait_ready, name)  # health follows the database
