"""Two audit processes on a PostgreSQL of the WatchRecords tests' own (other tests' servers
must not see its records, nor a restart), plus what they need to talk to them and to append."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeAlias

import pytest

from runtime.clients import bearer, open_channel
from runtime.migrate import upgrade
from runtime.pgserver import LocalPostgres
from runtime.provision import owner_url, provision
from runtime.stack import Stack
from tests.audit.watch.replicas import audit_processes
from tests.keys import Keys
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc
from tradeops.common.v1 import common_pb2

HEARTBEAT_S = 1.0  # small enough that the tests hear heartbeats quickly
Tokens = Callable[..., str]
Stubs: TypeAlias = "Callable[[str], pb_grpc.AuditServiceAsyncStub]"


@contextmanager
def audit_pg(data: Path) -> Iterator[LocalPostgres]:
    """A PostgreSQL in `data` with the audit schema, stopped on exit."""
    server = LocalPostgres(data, durable=False)
    server.start()
    try:
        provision(server.url())
        upgrade("audit", owner_url(server.url(), "audit"))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def own_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    with audit_pg(tmp_path_factory.mktemp("watch-pg") / "data") as server:
        yield server


@pytest.fixture(scope="session")
def replicas(
    own_pg: LocalPostgres, tmp_path_factory: pytest.TempPathFactory, keys: Keys
) -> Iterator[Stack]:
    """audit-1 and audit-2 on the same database, polling its head every 250 ms (the default);
    room for a burst of 1,200 records in one stream's backlog."""
    home = tmp_path_factory.mktemp("watch-replicas")
    watch = {"HEARTBEAT_S": str(HEARTBEAT_S), "BACKLOG": "5000"}
    with audit_processes(own_pg, home, keys, replicas=2, **watch) as stack:
        yield stack


@pytest.fixture
async def stub_of(replicas: Stack) -> AsyncIterator[Stubs]:
    """A stub on one replica's own address (no round robin: the test says which)."""
    channels = {name: open_channel(address) for name, address in replicas.replicas("audit").items()}
    yield lambda name: pb_grpc.AuditServiceStub(channels[name])
    for channel in channels.values():
        await channel.close(None)


def ops_event(
    target: str, action: str = "ops.action.approved", payload: str = "{}"
) -> pb.AuditEvent:
    """An event as the ops service's outbox sends it (source ops, target action/<id>)."""
    return pb.AuditEvent(
        event_id=str(uuid.uuid4()),
        actor=common_pb2.Actor(subject="olga", roles=["ops"], kind="person"),
        action=action,
        target=target,
        outcome="success",
        payload_json=payload,
        source="ops",
    )


async def append(
    stub: pb_grpc.AuditServiceAsyncStub, token_for: Tokens, *events: pb.AuditEvent
) -> list[int]:
    """Appends as the ops service; the seqs the events got."""
    ops = bearer(token_for("svc:ops", "service"))
    answer = await stub.AppendEvents(
        pb.AppendEventsRequest(events=events), metadata=ops, timeout=30
    )
    return [result.seq for result in answer.results]


def action_target() -> str:
    return f"action/{uuid.uuid4()}"
