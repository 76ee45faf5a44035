"""kill -9 of the audit service under load from eight producers, then a restart: every
acknowledged event is in the log exactly once, seqs have no gap, and verification passes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import psycopg
import pytest

from runtime.clients import bearer, open_channel
from runtime.migrate import upgrade
from runtime.pgserver import LocalPostgres, free_port
from runtime.provision import owner_url, provision, service_url
from runtime.stack import grpc_serving
from tests.keys import Keys
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc
from tradeops.common.v1 import common_pb2

PRODUCERS = 8
BATCH = 20


@pytest.fixture
def own_pg(tmp_path: Path) -> Iterator[LocalPostgres]:
    server = LocalPostgres(tmp_path / "pg", durable=True)
    server.start()
    provision(server.url())
    upgrade("audit", owner_url(server.url(), "audit"))
    yield server
    server.stop()


class AuditProcess:
    def __init__(self, pg: LocalPostgres, home: Path, keys: Keys) -> None:
        self.address = f"127.0.0.1:{free_port()}"
        self.env = {
            **os.environ,
            "TRADEOPS_AUDIT_DATABASE_URL": service_url(pg.url(), "audit"),
            "TRADEOPS_GRPC_LISTEN": self.address,
            **keys.env(),
            "TRADEOPS_AUDIT_SIGNING_KEYS_FILE": str(home / "keys.json"),
            "TRADEOPS_AUDIT_CREATE_DEV_KEYS": "1",
            "TRADEOPS_AUDIT_CHECKPOINT_EVERY_RECORDS": "100",
        }
        self.log = home / "audit.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "services.audit"], env=self.env, stdout=out, stderr=out
            )

    async def start(self) -> None:
        self._spawn()
        for _ in range(300):
            if await asyncio.to_thread(grpc_serving, self.address):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(self.log.read_text()[-2000:])

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def _event() -> pb.AuditEvent:
    return pb.AuditEvent(
        event_id=str(uuid.uuid4()),
        actor=common_pb2.Actor(subject="svc:ops", kind="service"),
        action="ops.action.approved",
        target="action/1",
        outcome="success",
        payload_json='{"qty": 1}',
        source="ops",
    )


async def _produce(address: str, token: str, acked: set[str], sent: list[pb.AuditEvent]) -> None:
    async with open_channel(address) as channel:
        stub = pb_grpc.AuditServiceStub(channel)
        while True:
            batch = [_event() for _ in range(BATCH)]
            sent.extend(batch)
            try:
                await stub.AppendEvents(
                    pb.AppendEventsRequest(events=batch), metadata=bearer(token), timeout=5
                )
            except grpc.aio.AioRpcError:
                return
            acked.update(e.event_id for e in batch)


async def test_a_killed_audit_service_loses_no_acknowledged_event(
    own_pg: LocalPostgres, tmp_path: Path, token_for: Callable[..., str], keys: Keys
) -> None:
    audit = AuditProcess(own_pg, tmp_path, keys)
    await audit.start()
    acked: set[str] = set()
    sent: list[pb.AuditEvent] = []
    try:
        token = token_for("svc:ops", "service")
        producers = [
            asyncio.create_task(_produce(audit.address, token, acked, sent))
            for _ in range(PRODUCERS)
        ]
        await asyncio.sleep(1.5)
        audit.kill()
        await asyncio.gather(*producers)
        assert len(acked) >= 200, "the load was too light to mean anything"
        await audit.start()
        stored = _stored(own_pg)
        assert acked <= stored.keys()
        assert all(count == 1 for count in stored.values())
        await _resend_everything(audit.address, token, sent)
        _assert_gapless_and_once(own_pg, {e.event_id for e in sent})
        await _assert_verifies(audit.address, token_for("carol", "compliance"))
    finally:
        audit.stop()


def _stored(pg: LocalPostgres) -> dict[str, int]:
    with psycopg.connect(pg.url(database="tradeops")) as conn:
        rows = conn.execute("SELECT event_id::text, count(*) FROM audit.records GROUP BY 1")
        return {event_id: count for event_id, count in rows}


async def _resend_everything(address: str, token: str, sent: list[pb.AuditEvent]) -> None:
    """Producers retry what was not acknowledged; appends are idempotent on event_id."""
    async with open_channel(address) as channel:
        stub = pb_grpc.AuditServiceStub(channel)
        for start in range(0, len(sent), 500):
            request = pb.AppendEventsRequest(events=sent[start : start + 500])
            await stub.AppendEvents(request, metadata=bearer(token), timeout=10)


def _assert_gapless_and_once(pg: LocalPostgres, every: set[str]) -> None:
    with psycopg.connect(pg.url(database="tradeops")) as conn:
        count, first, last, distinct = conn.execute(
            "SELECT count(*), min(seq), max(seq), count(DISTINCT event_id) FROM audit.records"
        ).fetchone() or (0, 0, 0, 0)
        size = conn.execute("SELECT size FROM audit.head").fetchone()
    assert (first, last, count, distinct) == (0, count - 1, count, count)
    assert size == (count,)
    assert every <= _stored(pg).keys()


async def _assert_verifies(address: str, token: str) -> None:
    async with open_channel(address) as channel:
        stub = pb_grpc.AuditServiceStub(channel)
        verdict = await stub.VerifyChain(
            pb.VerifyChainRequest(), metadata=bearer(token), timeout=30
        )
    assert (verdict.ok, verdict.first_bad_seq, verdict.reason) == (True, -1, "")
