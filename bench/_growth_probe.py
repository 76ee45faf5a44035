"""What bench/audit_growth.py asks of one running audit service; import-only (`make bench`
skips bench/_*.py): its start until it serves proofs from its tree, its memory from /proc, and
the latency of consistency proofs between random pairs of signed checkpoints."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from _service import Served
from psycopg import Connection

from runtime.clients import bearer, open_channel
from services.audit.log.domain.merkle.proofs import verify_consistency
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc


async def loaded_after(served: Served, started: float, limit_s: float = 600.0) -> float:
    """Seconds from `started` (before the process was spawned) until the service logs "tree
    loaded": from then on a proof touches only what it keeps (and the few nodes it reads)."""
    while "tree loaded" not in served.log.read_text(errors="replace"):
        if time.perf_counter() - started > limit_s:
            raise RuntimeError("the audit service did not load its tree in time")
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


def wal_bytes(admin_url: str) -> int:
    """The server's WAL position in bytes: what a phase wrote to the WAL, by difference."""
    with Connection.connect(admin_url) as conn:
        found = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    return int(found[0]) if found else 0


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB: resident now, and its peak so far."""
    found = {"VmRSS:": 0.0, "VmHWM:": 0.0}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, *value = line.split()
        if name in found:
            found[name] = int(value[0]) / 1024
    return found["VmRSS:"], found["VmHWM:"]


def p99_ms(spans: list[float]) -> float:
    spans = sorted(spans)
    return spans[min(len(spans) - 1, int(len(spans) * 0.99))] * 1000


async def timed(call: Callable[[], Awaitable[object]], calls: int) -> list[float]:
    """Each call's duration, one caller, one after the other."""
    spans = []
    for _ in range(calls):
        began = time.perf_counter()
        await call()
        spans.append(time.perf_counter() - began)
    return spans


async def consistency(served: Served, every: int, size: int, calls: int) -> tuple[float, float]:
    """(p99 ms of GetConsistencyProof between two random checkpoints of the seeded log, p99 ms
    of GetCheckpoint of the latest: the per-call floor), the two kinds of call alternating in
    blocks so a neighbour's burst falls on both; one answer is verified against the two signed
    checkpoints' roots first."""
    metadata, sizes = bearer(served.token), range(every, size + 1, every)
    async with open_channel(served.address) as channel:
        stub = pb_grpc.AuditServiceStub(channel)

        async def prove() -> pb.ConsistencyProof:
            first, second = sorted(random.sample(sizes, 2))
            request = pb.ConsistencyProofRequest(first_size=first, second_size=second)
            return await stub.GetConsistencyProof(request, metadata=metadata, timeout=30)

        async def floor() -> pb.SignedCheckpoint:
            request = pb.GetCheckpointRequest()
            return await stub.GetCheckpoint(request, metadata=metadata, timeout=30)

        answer = await prove()
        roots = []
        for tree_size in (answer.first_size, answer.second_size):
            signed = pb.GetCheckpointRequest(tree_size=tree_size)
            roots.append(
                bytes.fromhex((await stub.GetCheckpoint(signed, metadata=metadata)).root_hash)
            )
        proof = [bytes.fromhex(p) for p in answer.proof]
        verify_consistency(answer.first_size, answer.second_size, proof, *roots)
        figure, baseline = [], []
        for _ in range(10):
            baseline += await timed(floor, calls // 10)
            figure += await timed(prove, calls // 10)
    return p99_ms(figure), p99_ms(baseline)
