"""Decisions through the gateway: approve calls/s and p99 at a fixed offered rate, against a
tiny FastAPI app making one trivial gRPC call per request to the same ops service.

Durable PostgreSQL; the real audit, ops and gateway processes (outbox relay and audit on).
Pending actions (default policy, M=1) are proposed beforehand over gRPC with a service token;
each is then approved exactly once by an ops user over HTTP, from a lean keep-alive client
(bench/_ops_http.py) for the figure and the baseline alike. See bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from _common import result, scratch
from _ops_http import LeanClient
from _ops_stack import Paced, System, closed_loop, open_loop, p99, proposal, system

from runtime.clients import bearer, open_channel
from runtime.pgserver import free_port
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc


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


def start_baseline(sys_: System, port: int) -> subprocess.Popen[bytes]:
    env = {**sys_.stack.env, "BENCH_OPS_ADDR": sys_.stack.address("ops"), "BENCH_PORT": str(port)}
    log = (sys_.home / "logs" / "baseline.log").open("ab")
    app = Path(__file__).resolve().parent / "_ops_baseline_app.py"
    proc = subprocess.Popen([sys.executable, str(app)], env=env, stdout=log, stderr=log)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("baseline app did not start")


LIGHT_MAX, LIGHT_S = 300, 5.0  # the informative run at half the measured rate


class Caller:
    """POSTs to `path.format(id)` for ids[i]; anything but 200 aborts the run."""

    def __init__(self, client: LeanClient, path: str, ids: list[str]) -> None:
        self.client, self.path, self.ids = client, path, ids

    async def __call__(self, index: int) -> None:
        status, body = await self.client.post(self.path.format(self.ids[index]))
        if status != 200:
            raise RuntimeError(f"{self.path} -> {status}: {body[:300]!r}")


async def run(sys_: System, args: argparse.Namespace, base_url: str) -> bool:
    latency_n = int(args.rate * args.seconds)
    paced_n = args.trials * latency_n
    ids = await propose(sys_, 100 + args.approvals + 2 * LIGHT_MAX + paced_n)
    warm, bulk = ids[:100], ids[100 : 100 + args.approvals]
    light = ids[100 + args.approvals :][:LIGHT_MAX]
    direct, paced = ids[100 + args.approvals + LIGHT_MAX :][:LIGHT_MAX], ids[-paced_n:]
    headers = {"Authorization": f"Bearer {sys_.token('ops-bench', 'ops')}"}
    gw, bl = LeanClient(sys_.stack.gateway_url(), headers), LeanClient(base_url, headers)
    try:
        approve = Caller(gw, "/agent/ops/actions/{}/approve", bulk)
        trivial = Caller(bl, "/baseline/{}", bulk)
        await closed_loop(Caller(gw, "/agent/ops/actions/{}/approve", warm[:50]), 50, 8)
        await closed_loop(Caller(bl, "/baseline/{}", warm), 100, 8)
        base_rate = await closed_loop(trivial, args.approvals, args.concurrency)
        print(f"baseline: {base_rate:.0f} trivial calls/s", flush=True)
        figure = await closed_loop(approve, args.approvals, args.concurrency)
        print(f"approve: {figure:.0f} approvals/s ({args.approvals} actions)", flush=True)
        await asyncio.sleep(1)  # let the relay drain before the paced runs
        # Informative: the latency of one approval when the system is not queueing.
        easy = min(figure / 2, LIGHT_MAX / LIGHT_S)
        for name, caller in (
            ("baseline", Caller(bl, "/baseline/{}", light)),
            ("approve", Caller(gw, "/agent/ops/actions/{}/approve", light)),
        ):
            paced_easy = await open_loop(caller, easy, LIGHT_S)
            print(f"{name} at {easy:.0f}/s offered: {paced_easy.describe()}", flush=True)
        paced_easy = await approve_direct(sys_, direct, easy)
        print(f"ApproveAction by gRPC at {easy:.0f}/s: {paced_easy.describe()}", flush=True)
        base_lat, fig_lat = await latency_trials(args, gw, bl, paced)
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


async def latency_trials(
    args: argparse.Namespace, gw: LeanClient, bl: LeanClient, ids: list[str]
) -> tuple[list[Paced], list[Paced]]:
    """`args.trials` trials, each the baseline then the approvals at args.rate for
    args.seconds; the figure is the median trial's p99, every trial printed. The host's
    neighbours come and go: a burst of theirs lasting half a second puts more than 1% of one
    trial's calls late, baseline or figure, whichever it lands on. Alternating the two and
    taking the median trial measures the system, not the burst."""
    size = len(ids) // args.trials
    base: list[Paced] = []
    fig: list[Paced] = []
    for trial in range(args.trials):
        chunk = ids[trial * size : (trial + 1) * size]
        base.append(await open_loop(Caller(bl, "/baseline/{}", chunk), args.rate, args.seconds))
        fig.append(
            await open_loop(
                Caller(gw, "/agent/ops/actions/{}/approve", chunk), args.rate, args.seconds
            )
        )
        print(
            f"trial {trial + 1} at {args.rate:.0f}/s offered: baseline {base[-1].describe()};"
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
    parser.add_argument("--approvals", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    with scratch("ops-decisions") as home, system(home, gateway=True) as sys_:
        port = free_port()
        baseline = start_baseline(sys_, port)
        try:
            ok = asyncio.run(run(sys_, args, f"http://127.0.0.1:{port}"))
        finally:
            baseline.terminate()
            baseline.wait(20)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
