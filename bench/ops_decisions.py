"""Decisions through the gateway: approvals/s closed loop against a tiny FastAPI app making one
unary gRPC call to a servicer that answers at once (the floor of one request and one call here),
the CPU each process spends per approval, and p99 at half the approve rate offered open loop.

Durable PostgreSQL; the real audit, ops and gateway processes (outbox relay and audit on).
Pending actions (default policy, M=1) are proposed beforehand over gRPC with a service token;
each is then approved exactly once by an ops user over HTTP, from a lean keep-alive client
(bench/_ops_http.py) for the figure and the baseline alike. See bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys

import psycopg
from _approve_baselines import Baselines, baselines
from _common import result, scratch
from _ops_http import LeanClient
from _ops_stack import Paced, System, closed_loop, open_loop, p99, proposal, system
from _proc import CpuMeter

from runtime.clients import bearer, open_channel
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc

LIGHT_MAX, LIGHT_S = 300, 5.0  # the informative direct run: at most 60/s for 5 s
APPROVE, TRIVIAL, GET_ACTION = "/agent/ops/actions/{}/approve", "/trivial/{}", "/baseline/{}"


async def propose(sys_: System, count: int) -> list[str]:
    metadata = bearer(sys_.token("svc:bench", "service"))
    ids: list[str] = [""] * count
    async with open_channel(sys_.stack.address("ops")) as channel:
        stub = pb_grpc.OpsServiceStub(channel)

        async def one(index: int) -> None:
            action = await stub.ProposeAction(proposal(index), timeout=10, metadata=metadata)
            ids[index] = action.id

        rate = await closed_loop(one, count, 16)
    print(f"proposed {count} pending actions ({rate:.0f}/s)", flush=True)
    return ids


async def approve_direct(sys_: System, ids: list[str], rate: float) -> Paced:
    """The same approvals straight to ops over gRPC: what the gateway adds is the difference."""
    metadata = bearer(sys_.token("ops-bench", "ops"))
    async with open_channel(sys_.stack.address("ops")) as channel:
        stub = pb_grpc.OpsServiceStub(channel)

        async def one(index: int) -> None:
            await stub.ApproveAction(pb.VoteRequest(id=ids[index]), timeout=30, metadata=metadata)

        return await open_loop(one, rate, LIGHT_S)


class Caller:
    """POSTs to `path.format(id)` for ids[i]; anything but 200 aborts the run."""

    def __init__(self, client: LeanClient, path: str, ids: list[str]) -> None:
        self.client, self.path, self.ids = client, path, ids

    async def __call__(self, index: int) -> None:
        status, body = await self.client.post(self.path.format(self.ids[index]))
        if status != 200:
            raise RuntimeError(f"{self.path} -> {status}: {body[:300]!r}")


async def run(sys_: System, args: argparse.Namespace, floor: Baselines) -> bool:
    ids = await propose(sys_, 100 + 2 * args.approvals + LIGHT_MAX)
    warm, bulk = ids[:100], ids[100 : 100 + args.approvals]
    rest = ids[100 + args.approvals :]
    direct, spare = rest[:LIGHT_MAX], rest[LIGHT_MAX:]
    headers = {"Authorization": f"Bearer {sys_.token('ops-bench', 'ops')}"}
    gw, bl = LeanClient(sys_.stack.gateway_url(), headers), LeanClient(floor.url, headers)
    meter = CpuMeter({**sys_.stack_pids(), **floor.pids}, sys_.server.datadir)
    try:
        await closed_loop(Caller(gw, APPROVE, warm[:50]), 50, 8)
        await closed_loop(Caller(bl, TRIVIAL, warm), 100, 8)
        await closed_loop(Caller(bl, GET_ACTION, warm), 100, 8)
        base_rate = await metered(meter, "trivial", Caller(bl, TRIVIAL, bulk), args)
        await metered(meter, "GetAction (informative)", Caller(bl, GET_ACTION, bulk), args)
        figure = await metered(meter, "approve", Caller(gw, APPROVE, bulk), args)
        await audited(sys_)  # the relay drains before the paced runs
        half = figure / 2
        paced_direct = await approve_direct(sys_, direct, min(half, LIGHT_MAX / LIGHT_S))
        print(f"ApproveAction by gRPC, no gateway: {paced_direct.describe()}", flush=True)
        paced = await more_actions(sys_, spare, args.trials * int(half * args.seconds))
        base_lat, fig_lat = await latency_trials(args, half, gw, bl, paced)
    finally:
        await gw.aclose()
        await bl.aclose()
    await audited(sys_)
    ok_rate = figure / base_rate >= 0.5
    fig_p99 = statistics.median(p99(t.latencies) for t in fig_lat)
    ok_lat = fig_p99 <= 25 and not any(t.failed or t.unfinished for t in fig_lat)
    base_p99 = statistics.median(p99(t.latencies) for t in base_lat)
    result("ops_approve_rate", figure, "approvals/s", base_rate, "ratio>=0.5", ok_rate)
    result("ops_approve_p99", fig_p99, "ms", base_p99, "<=25ms", ok_lat)
    return ok_rate and ok_lat


async def metered(meter: CpuMeter, name: str, caller: Caller, args: argparse.Namespace) -> float:
    """Closed loop over caller's ids; prints calls/s and each process's CPU per call."""
    before = meter.read()
    rate = await closed_loop(caller, args.approvals, args.concurrency)
    spent = meter.per_call(before, meter.read(), args.approvals)
    print(f"{name}: {rate:.0f}/s; CPU per call: {spent}", flush=True)
    return rate


async def more_actions(sys_: System, spare: list[str], needed: int) -> list[str]:
    """Pending actions for the paced trials: the rate is known only now."""
    if needed <= len(spare):
        return spare[:needed]
    return spare + await propose(sys_, needed - len(spare))


async def latency_trials(
    args: argparse.Namespace, rate: float, gw: LeanClient, bl: LeanClient, ids: list[str]
) -> tuple[list[Paced], list[Paced]]:
    """`args.trials` trials, each the trivial baseline then the approvals at `rate` for
    args.seconds; the figure is the median trial's p99, every trial printed. The host's
    neighbours come and go: a burst of theirs lasting half a second puts more than 1% of one
    trial's calls late, baseline or figure, whichever it lands on. Alternating the two and
    taking the median trial measures the system, not the burst."""
    size = len(ids) // args.trials
    base: list[Paced] = []
    fig: list[Paced] = []
    for trial in range(args.trials):
        chunk = ids[trial * size : (trial + 1) * size]
        base.append(await open_loop(Caller(bl, TRIVIAL, chunk), rate, args.seconds))
        fig.append(await open_loop(Caller(gw, APPROVE, chunk), rate, args.seconds))
        print(
            f"trial {trial + 1} at {rate:.0f}/s offered: baseline {base[-1].describe()};"
            f" approve {fig[-1].describe()}",
            flush=True,
        )
    return base, fig


async def audited(sys_: System) -> None:
    """Reports how far the outbox relay got: every approval must become an audit record."""
    approved = "SELECT count(*) FROM ops.actions WHERE state = 'APPROVED'"
    recorded = "SELECT count(*) FROM audit.records WHERE action = 'ops.action.approved'"
    async with await psycopg.AsyncConnection.connect(sys_.admin_url, autocommit=True) as conn:
        for _ in range(150):
            counts = [
                (await (await conn.execute(q)).fetchone() or (0,))[0] for q in (approved, recorded)
            ]
            if counts[0] == counts[1]:
                break
            await asyncio.sleep(0.2)
    print(f"approved actions: {counts[0]}, audit records of approvals: {counts[1]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--approvals", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    with (
        scratch("ops-decisions") as home,
        system(home, gateway=True) as sys_,
        baselines(sys_) as floor,
    ):
        ok = asyncio.run(run(sys_, args, floor))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
