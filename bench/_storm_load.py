"""The market-open storm's load, for bench/market_storm.py; import-only (`make bench` skips
bench/_*.py): actions proposed to approve, and desk systems' reports in TriageBatch calls, driven
closed loop (the triage path alone, as bench/agent_triage.py drives it) or on a schedule."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

from _agent_rows import triage_batches
from _ops_stack import Whole, closed_loop, p99, proposal

from runtime.clients import bearer, open_channel
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

BATCH, CALLERS = 500, 4
TRIAGE = "/tradeops.agent.v1.AgentService/TriageBatch"


async def propose(whole: Whole, count: int) -> list[str]:
    metadata = bearer(whole.keys.service("ops"))
    ids = [""] * count
    async with open_channel(whole.stack.address("ops")) as channel:
        stub = ops_grpc.OpsServiceStub(channel)

        async def one(index: int) -> None:
            ids[index] = (await stub.ProposeAction(proposal(index), metadata=metadata)).id

        await closed_loop(one, count, 16)
    return ids


async def triage_alone(whole: Whole, count: int) -> float:
    """Reports/s with CALLERS callers, each sending the next batch when answered."""
    bodies = iter(triage_batches(0, count, BATCH))
    metadata = bearer(whole.keys.service("agent"))
    async with open_channel(whole.stack.address("agent")) as channel:
        send = channel.unary_unary(TRIAGE, None, None)

        async def caller() -> None:
            for body in bodies:
                await send(body, metadata=metadata, timeout=120)

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
        return count / (time.perf_counter() - started)


@dataclass
class Storm:
    """Batch k due at start + k * BATCH / rate, sent whether or not earlier ones answered."""

    whole: Whole
    first: int
    rate: float
    seconds: float
    latencies: list[float] | None = None  # ms from when each batch was due to its answer

    async def run(self, start: float) -> None:
        bodies = triage_batches(self.first, int(self.rate * self.seconds), BATCH)
        metadata = bearer(self.whole.keys.service("agent"))
        taken: list[float] = []
        async with open_channel(self.whole.stack.address("agent")) as channel:
            send = channel.unary_unary(TRIAGE, None, None)

            async def one(body: bytes, due: float) -> None:
                await send(body, metadata=metadata, timeout=120)
                taken.append((time.perf_counter() - due) * 1000)

            tasks = []
            for k, body in enumerate(bodies):
                due = start + k * BATCH / self.rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                tasks.append(asyncio.create_task(one(body, due)))
            await asyncio.gather(*tasks)  # a failed batch fails the run
        self.latencies = taken

    def describe(self) -> str:
        taken = self.latencies or [0.0]
        return (
            f"storm: {self.rate:,.0f} reports/s offered for {self.seconds:.0f} s, {len(taken)}"
            f" batches answered; from due to answer p50 {statistics.median(taken):.0f} ms,"
            f" p99 {p99(taken):.0f} ms"
        )


def cpu_line(before: dict[str, float], after: dict[str, float], per: float) -> str:
    """CPU ms each process spent per unit of work (`per` units) between two readings."""
    spent = {name: (after[name] - before[name]) * 1000 / per for name in after}
    total = sum(spent.values())
    return f"{total:.2f} ms in all: " + ", ".join(f"{n} {v:.2f}" for n, v in spent.items())
