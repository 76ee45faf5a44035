"""Benchmark: inclusion proofs served per second through gRPC GetInclusionProof at 1,000,000
records (random seqs, 16 concurrent callers, 10 s; the service a separate process), against
GetCheckpoint (one trivial read, same callers, same duration) in the same run: the per-call
floor of this client, gRPC stack, auth guard and a database transaction.

Usage: .venv/bin/python bench/audit_proofs.py [--records N] [--seconds S]"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from _common import Cluster, result
from _populated import populated
from _service import Served, audit_service

from runtime.clients import bearer, open_channel
from services.audit.log.domain.merkle.proofs import verify_inclusion
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

TARGET = 2_000
CALLERS = 16
Call = Callable[[], Awaitable[object]]


async def rate(call: Call, seconds: float) -> float:
    """Completed calls per second, CALLERS calls always in flight."""
    done, stop = 0, time.perf_counter() + seconds

    async def caller() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await call()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(CALLERS)))
    return done / (time.perf_counter() - started)


def checked(found: pb.InclusionProof) -> pb.InclusionProof:
    """The answer must be a real proof, or the benchmark measures nothing."""
    verify_inclusion(
        found.seq,
        found.tree_size,
        bytes.fromhex(found.leaf_hash),
        [bytes.fromhex(p) for p in found.proof],
        bytes.fromhex(found.root_hash),
    )
    return found


async def tree_loaded(served: Served, limit_s: float = 300.0) -> None:
    """Waits until the service has loaded its in-memory tree (it logs "tree loaded"), so both
    figures are measured in the steady state and the load does not slow the baseline."""
    started = time.perf_counter()
    while "tree loaded" not in served.log.read_text(errors="replace"):
        if time.perf_counter() - started > limit_s:
            raise RuntimeError("the audit service did not load its tree in time")
        await asyncio.sleep(0.2)
    print(f"service loaded its tree in {time.perf_counter() - started:.1f} s", flush=True)


async def measure(served: Served, seconds: float) -> tuple[float, float]:
    metadata = bearer(served.token)
    async with open_channel(served.address) as channel:
        stub = pb_grpc.AuditServiceStub(channel)
        latest = await stub.GetCheckpoint(pb.GetCheckpointRequest(), metadata=metadata, timeout=5)
        size = latest.tree_size
        print(f"log of {size:,} records; {CALLERS} callers, {seconds:g} s each", flush=True)

        async def prove() -> pb.InclusionProof:
            request = pb.InclusionProofRequest(seq=random.randrange(size))
            return await stub.GetInclusionProof(request, metadata=metadata, timeout=30)

        async def floor() -> pb.SignedCheckpoint:
            request = pb.GetCheckpointRequest()
            return await stub.GetCheckpoint(request, metadata=metadata, timeout=30)

        checked(await prove())
        await rate(floor, 1.0)  # warm-up of both paths
        await rate(prove, 1.0)
        baseline = await rate(floor, seconds)
        print(f"GetCheckpoint (baseline): {baseline:,.0f} calls/s", flush=True)
        figure = await rate(prove, seconds)
        print(f"GetInclusionProof: {figure:,.0f} proofs/s", flush=True)
        return figure, baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    async def served(cluster: Cluster, keys_file: Path) -> tuple[float, float]:
        async with audit_service(cluster, keys_file) as service:
            await tree_loaded(service)
            return await measure(service, args.seconds)

    with populated(args.records) as (cluster, keys_file):
        figure, baseline = asyncio.run(served(cluster, keys_file))
    result("audit_proofs", figure, "proofs/s", baseline, f">={TARGET}", figure >= TARGET)


if __name__ == "__main__":
    main()
