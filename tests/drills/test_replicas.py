"""Drill: two replicas of ops, agent, export and audit, on distinct ports, sharing the database
and the export directory; the gateway, the services and the load reach them through static
address lists (round robin, runtime.clients). `kill -9` of one replica of each under load:
nothing acknowledged is lost, callers see only clean errors (503 / UNAVAILABLE) and only
around the kill, exports are verified and redelivered by whichever replica is up, and the two
audit replicas, writing concurrently, leave a log without a gap or a duplicate seq whose chain
verifies. Prints the figures."""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import httpx
import psycopg
import pytest

from runtime.pgserver import LocalPostgres, free_port
from runtime.stack import Stack
from tests.drills import bodies
from tests.drills.acks import key_refused
from tests.drills.conftest import all_up, drill_env
from tests.drills.ledger import Ledger
from tests.drills.load import Load, wait_for_progress
from tests.e2e.conftest import migrated_pg
from tests.keys import Keys
from tradeops.audit.v1 import audit_service_pb2 as audit_pb2
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc

REPLICATED = ("audit", "ops", "agent", "export")
VICTIMS = tuple(f"{service}-1" for service in REPLICATED)
WARM_UP_S = 3.0
AFTER_S = 3.0  # load on the survivors alone, once the work has resumed
CLEAN = {"503", "UNAVAILABLE"}
APPENDS_PER_REPLICA = 20
TAKEOVER_WITHIN_S = 30.0


@pytest.fixture(scope="module")
def drill_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    """A PostgreSQL of this drill's own: the audit replicas sign checkpoints with keys of their
    own, which the shared drills' log would refuse, and the log's seqs counted here are theirs."""
    with migrated_pg(tmp_path_factory.mktemp("replica-pg") / "data", durable=True) as server:
        yield server


@pytest.fixture(scope="module")
def replica_stack(
    drill_pg: LocalPostgres, tmp_path_factory: pytest.TempPathFactory, keys: Keys
) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("replica-stack")
    env = drill_env(drill_pg, home, keys)
    for service in REPLICATED:
        env[f"TRADEOPS_{service.upper()}_ADDR"] = f"127.0.0.1:{free_port()},127.0.0.1:{free_port()}"
    for name in (*REPLICATED, "gateway"):
        env.pop(f"TRADEOPS_{name.upper()}_METRICS_PORT", None)
    vault = {"name": "vault", "type": "directory", "path": str(home / "vault")}
    env["TRADEOPS_EXPORT_DESTINATIONS"] = json.dumps([vault])
    with Stack(env, home / "logs") as running:
        yield running


@pytest.fixture
def stack(replica_stack: Stack, drill_pg: LocalPostgres) -> Stack:
    """The replicated stack with every replica up; `load` and `ledger` use it."""
    return all_up(replica_stack, drill_pg)


def append_to_each_audit_replica(stack: Stack, token: str) -> list[str]:
    """Events appended straight to each audit replica at once (two sequencers writing)."""
    metadata = (("authorization", f"Bearer {token}"),)

    def append(address: str) -> list[str]:
        sent: list[str] = []
        with grpc.insecure_channel(address) as channel:
            stub = audit_grpc.AuditServiceStub(channel)
            for _ in range(APPENDS_PER_REPLICA):
                events = [bodies.event() for _ in range(5)]
                request = audit_pb2.AppendEventsRequest(events=events)
                stub.AppendEvents(request, timeout=10, metadata=metadata)
                sent.extend(event.event_id for event in events)
        return sent

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(append, stack.replicas("audit").values()))
    return [event_id for sent in done for event_id in sent]


def assert_seqs_gapless(sql: Callable[[], psycopg.Connection[Any]], event_ids: list[str]) -> int:
    with sql() as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM audit.records"
        ).fetchone()
        found = conn.execute(
            "SELECT count(*) FROM audit.records WHERE event_id = ANY(%s)", (event_ids,)
        ).fetchone()
    assert row is not None
    assert found is not None
    count, distinct, first, last = row
    assert (distinct, first, last) == (count, 0, count - 1), f"seqs not 0..{count - 1}: {row}"
    assert found[0] == len(event_ids), "an event appended to one audit replica is missing"
    return int(count)


def test_one_replica_of_each_killed_under_load_loses_nothing(
    stack: Stack,
    load: Load,
    ledger: Ledger,
    admin_sql: Callable[[], psycopg.Connection[Any]],
    token_for: Callable[..., str],
) -> None:
    load.start()
    time.sleep(WARM_UP_S)
    both = append_to_each_audit_replica(stack, token_for("svc:drill-producer", "service"))
    before = load.progress()
    for victim in VICTIMS:
        stack.stop_one(victim, signal.SIGKILL)
    killed = time.monotonic()
    wait_for_progress(load, before)
    recovered = time.monotonic()
    time.sleep(AFTER_S)
    load.stop()

    assert stack.dead() == []
    assert set(stack.procs) == set(stack.processes()) - set(VICTIMS)
    failures = [f for f in load.failures if not key_refused(f)]
    assert {f.status for f in failures} <= CLEAN, failures[:5]
    late = [f for f in failures if f.at - f.seconds > recovered]
    assert late == [], "requests sent after the survivors took over still failed"
    ledger.assert_nothing_lost(load.acks)
    records = assert_seqs_gapless(admin_sql, both)

    acked = load.progress()
    requests = sum(acked.values()) - acked["events"] + acked["events"] // 5 + len(load.failures)
    print(f"\nreplica drill: {requests} requests, acknowledged {acked}")
    kinds = Counter(f"{f.what} {f.status}" for f in load.failures)
    print(f"  failures seen by callers, by request and status: {dict(kinds)}")
    print(f"  work resumed {recovered - killed:.2f} s after the kills (every kind acknowledged)")
    print(f"  audit log: {records} records, seqs 0..{records - 1}, no gap, no duplicate")


def test_an_export_is_verified_and_redelivered_by_whichever_replica_is_up(
    stack: Stack, token_for: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {token_for('carol', 'compliance')}"}
    api = httpx.Client(base_url=stack.gateway_url(), timeout=30, headers=headers)
    body = {"kind": "audit_extract", "from_seq": 0, "to_seq": 20, "destination": "vault"}
    stack.stop_one("export-2", signal.SIGKILL)  # made by export-1
    keyed = {"Idempotency-Key": f"replica-drill-{uuid.uuid4()}"}
    made = retried(lambda: api.post("/exports", json=body, headers=keyed))
    assert made.status_code == 201, made.text
    export_id = made.json()["id"]
    print("\nexport drill: seconds until the other replica answered")

    for up, down in (("export-2", "export-1"), ("export-1", "export-2")):
        stack.start_one(up)
        stack.stop_one(down, signal.SIGKILL)
        started = time.monotonic()
        verified = retried(lambda: api.post(f"/exports/{export_id}/verify"))
        took = time.monotonic() - started
        assert verified.status_code == 200, verified.text
        assert verified.json()["ok"] is True, verified.json()
        redelivered = api.post(f"/exports/{export_id}/redeliver", json={})
        assert redelivered.status_code == 200, redelivered.text
        print(f"  {down} killed: {up} verified after {took:.2f} s and redelivered")

    attempts = api.get(f"/exports/{export_id}/attempts").json()["attempts"]
    # made, then one redelivery by each replica
    assert [a["outcome"] for a in attempts] == ["delivered"] * 3, attempts
    api.close()


def retried(send: Callable[[], httpx.Response]) -> httpx.Response:
    """Sent again while the gateway says the peer is unavailable (its channel may not have seen
    the replica that just came up yet); anything else is returned."""
    deadline = time.monotonic() + TAKEOVER_WITHIN_S
    while (reply := send()).status_code == 503 and time.monotonic() < deadline:
        assert '"UNAVAILABLE"' in reply.text, reply.text
        time.sleep(0.1)
    return reply
