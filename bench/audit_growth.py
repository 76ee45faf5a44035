"""Benchmark: the audit service over a log of 10,000,000 records against one of 10,000 (issue 21,
target 3), both seeded straight into the database (bench/_seed_log.py), each served by its own
`python -m services.audit` process: its start until "tree loaded", inclusion proofs/s (16
callers), consistency proofs between random checkpoints (p99), AppendEvents/s (8 callers of
500, as audit_append.py) and the process's resident memory (VmHWM).

Usage: .venv/bin/python bench/audit_growth.py [--records N] [--small N] [--events N]
[--seconds S] [--pairs N]"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from dataclasses import dataclass
from pathlib import Path

from _append_client import throughput
from _common import Cluster, postgres, result, scratch
from _grown import grown
from _growth_probe import consistency, loaded_after, memory_mb, wal_bytes
from _proc import cpu_s, server_cpu_s
from _seed_log import EVERY, seed
from _service import Served, audit_service
from audit_proofs import CALLERS, checked, rate

from runtime.clients import bearer, open_channel
from services.audit.log.domain.keyring import generate_dev_keyring
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

APPEND_RATIO, PROOFS, CONSISTENCY_MS, RSS_MB, START_S = 0.8, 2_000, 10.0, 600.0, 30.0


@dataclass
class Run:
    """What one service process showed."""

    start_s: float = 0.0
    append_rate: float = 0.0
    proofs: float = 0.0
    floor: float = 0.0
    consistency_ms: float = 0.0
    checkpoint_ms: float = 0.0
    rss_mb: float = 0.0
    peak_mb: float = 0.0


async def appends(served: Served, events: int) -> float:
    await throughput(served, first=10**9, count=5_000, callers=8, batch=500)  # warm-up
    return await throughput(served, first=0, count=events, callers=8, batch=500)


async def proofs(served: Served, seconds: float) -> tuple[float, float]:
    """(inclusion proofs/s, GetCheckpoint calls/s) as audit_proofs.py measures them."""
    metadata = bearer(served.token)
    async with open_channel(served.address) as channel:
        stub = pb_grpc.AuditServiceStub(channel)
        size = (await stub.GetCheckpoint(pb.GetCheckpointRequest(), metadata=metadata)).tree_size

        async def prove() -> pb.InclusionProof:
            request = pb.InclusionProofRequest(seq=random.randrange(size))
            return await stub.GetInclusionProof(request, metadata=metadata, timeout=30)

        async def floor() -> pb.SignedCheckpoint:
            request = pb.GetCheckpointRequest()
            return await stub.GetCheckpoint(request, metadata=metadata, timeout=30)

        for _ in range(20):  # a sample of proofs verifies: the seeded log is a valid one
            checked(await prove())
        await rate(floor, 1.0)  # warm-up of both paths
        await rate(prove, 1.0)
        baseline = await rate(floor, seconds)
        return await rate(prove, seconds), baseline


async def serve(cluster: Cluster, keys: Path, size: int, args: argparse.Namespace) -> Run:
    run, started, pgdata = Run(), time.perf_counter(), cluster.server.datadir
    async with audit_service(cluster, keys) as served:
        run.start_s = await loaded_after(served, started)
        run.rss_mb, _ = memory_mb(served.pid)
        print(f"  tree loaded {run.start_s:.1f} s after the start; RSS {run.rss_mb:.0f} MB")
        run.proofs, run.floor = await proofs(served, args.seconds)
        print(f"  {CALLERS} callers: {run.proofs:,.0f} proofs/s, GetCheckpoint {run.floor:,.0f}/s")
        found = await consistency(served, EVERY, size, args.pairs)
        run.consistency_ms, run.checkpoint_ms = found
        print(f"  consistency proofs p99 {found[0]:.2f} ms (GetCheckpoint p99 {found[1]:.2f} ms)")
        wal, cpu = wal_bytes(cluster.admin_url), (cpu_s(served.pid), server_cpu_s(pgdata))
        run.append_rate = await appends(served, args.events)
        wal = (wal_bytes(cluster.admin_url) - wal) / (args.events + 5_000)
        spent = (cpu_s(served.pid) - cpu[0], server_cpu_s(pgdata) - cpu[1])
        print(f"  AppendEvents: {run.append_rate:,.0f} events/s; per event {wal:,.0f} B of WAL,")
        print(f"    CPU {spent[0]:.1f} s audit, {spent[1]:.1f} s PostgreSQL", flush=True)
        _, run.peak_mb = memory_mb(served.pid)
        print(f"  peak RSS (VmHWM) {run.peak_mb:.0f} MB", flush=True)
    return run


def small_log(args: argparse.Namespace) -> Run:
    print(f"a log of {args.small:,} records (seeded now)", flush=True)
    with scratch("growth") as work, postgres(work / "pgdata") as cluster:
        keyring = generate_dev_keyring("tradeops.bench-audit")
        (work / "keys.json").write_text(keyring.to_json())
        seed(cluster.admin_url, keyring, args.small)
        return asyncio.run(serve(cluster, work / "keys.json", args.small, args))


def large_log(args: argparse.Namespace) -> Run:
    with grown(args.records) as (cluster, keys):
        print(f"a log of {args.records:,} records", flush=True)
        return asyncio.run(serve(cluster, keys, args.records, args))


def report(small: Run, large: Run) -> None:
    rate, start = large.append_rate, large.start_s
    result("audit_growth_start", start, "s", small.start_s, f"<{START_S:g}", start < START_S)
    peak = large.peak_mb
    result("audit_growth_rss", peak, "MB", small.peak_mb, f"<={RSS_MB:g}", peak <= RSS_MB)
    ms = large.consistency_ms
    ok = ms < CONSISTENCY_MS
    result(
        "audit_growth_consistency_p99", ms, "ms", large.checkpoint_ms, f"<{CONSISTENCY_MS:g}", ok
    )
    found, ok = large.proofs, large.proofs >= PROOFS
    result("audit_growth_proofs", found, "proofs/s", large.floor, f">={PROOFS}", ok)
    ok = rate >= APPEND_RATIO * small.append_rate
    result("audit_growth_append", rate, "events/s", small.append_rate, f"ratio>={APPEND_RATIO}", ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pairs", type=int, default=1_000)
    args = parser.parse_args()
    small = small_log(args)
    large = large_log(args)
    report(small, large)


if __name__ == "__main__":
    main()
