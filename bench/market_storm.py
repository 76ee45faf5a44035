"""Market-open storm: desk systems' incident reports over gRPC (TriageBatch, batches of 500) at
75% of the rate the triage path reaches alone in the same run, for 60 s, while 20 approvals/s
go through the gateway. Targets: approvals p99 <= 100 ms (baseline: the same 20/s without the
storm), every report stored and triaged, every service's outbox backlog back to zero within
30 s of the storm's end (printed once a second), audit lag p99 < 5 s. See bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

import psycopg
from _common import result, scratch
from _ops_http import LeanClient
from _ops_stack import Paced, Whole, closed_loop, open_loop, p99, whole_system
from _storm import Lag, Sampler, lag, last_ids, until_delivered
from _storm_load import Storm, cpu_line, propose, triage_alone
from ops_decisions import Caller

SHARE, APPROVALS_PER_S = 0.75, 20.0
APPROVE = "/agent/ops/actions/{}/approve"
P99_MS, DRAIN_S, LAG_S = 100.0, 30.0, 5.0


async def counted(admin_url: str) -> tuple[int, int]:
    """Incidents and decisions the agent stored."""
    found = []
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as conn:
        for table in ("incidents", "decisions"):
            row = await (await conn.execute(f"SELECT count(*) FROM agent.{table}")).fetchone()
            found.append(int(row[0]) if row else -1)
    return found[0], found[1]


async def approvals(gw: LeanClient, ids: list[str], seconds: float) -> Paced:
    return await open_loop(Caller(gw, APPROVE, ids), APPROVALS_PER_S, seconds)


@dataclass(frozen=True)
class Calm:
    """The same-run baselines: approvals and their audit lag with no storm, and how long the
    outboxes took to drain after the triage path ran alone."""

    approvals: Paced
    lag: Lag
    drain_s: float


async def run(whole: Whole, args: argparse.Namespace) -> bool:
    quiet_n, storm_n = int(APPROVALS_PER_S * 10), int(APPROVALS_PER_S * args.seconds)
    ids = await propose(whole, 20 + quiet_n + storm_n)
    gw = LeanClient(
        whole.stack.gateway_url(),
        {"Authorization": f"Bearer {whole.keys.person('ops-bench', 'ops')}"},
    )
    await closed_loop(Caller(gw, APPROVE, ids[:20]), 20, 4)  # warm-up
    # The quiet baseline first: afterwards ops is busy with the triaged reports' proposals.
    before = await last_ids(whole.admin_url)
    quiet = await approvals(gw, ids[20 : 20 + quiet_n], 10)
    print(f"approvals at {APPROVALS_PER_S:.0f}/s, no storm: {quiet.describe()}", flush=True)
    upto = await last_ids(whole.admin_url)
    await until_delivered(whole.admin_url, upto)
    quiet_lag = await lag(whole.admin_url, "ops", before["ops"], upto["ops"])
    print(f"ops audit lag, no storm: {quiet_lag.describe()}", flush=True)
    was = whole.cpu()
    rate = await triage_alone(whole, args.calibrate)
    print(f"triage alone: {rate:,.0f} reports/s ({args.calibrate:,} reports)", flush=True)
    calm_drain = await until_delivered(whole.admin_url, await last_ids(whole.admin_url))
    print(f"its outbox rows delivered {calm_drain:.1f} s after it", flush=True)
    print("CPU per report, delivery included: " + cpu_line(was, whole.cpu(), args.calibrate))
    storm = Storm(whole, 10**8, SHARE * rate, args.seconds)
    before = await last_ids(whole.admin_url)
    sampler = Sampler(whole.admin_url)
    was = whole.cpu()
    sampling = asyncio.create_task(sampler.run(args.wait))
    start = time.perf_counter() + 0.5  # the storm's bodies are serialised first
    storm_task = asyncio.create_task(storm.run(start))
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    stormy = await approvals(gw, ids[20 + quiet_n :], args.seconds)
    await storm_task
    sampler.end(start + args.seconds, await last_ids(whole.admin_url))
    print(storm.describe(), flush=True)
    print(f"approvals at {APPROVALS_PER_S:.0f}/s in the storm: {stormy.describe()}", flush=True)
    await sampling
    reports = storm.rate * args.seconds
    print(
        "CPU per storm report, its rows' delivery included: " + cpu_line(was, whole.cpu(), reports)
    )
    await gw.aclose()
    print(
        "undelivered outbox rows of each service, of them the storm's (written by its end),"
        " and proposals not yet made to ops, over time (storm from 0.5 s):\n" + sampler.table(),
        flush=True,
    )
    return await verdicts(
        whole, args, Calm(quiet, quiet_lag, calm_drain), stormy, sampler, before, storm
    )


async def verdicts(
    whole: Whole, args: argparse.Namespace, calm: Calm, stormy: Paced, sampler: Sampler,
    before: dict[str, int], storm: Storm,
) -> bool:  # fmt: skip
    quiet, quiet_lag = calm.approvals, calm.lag
    sent = args.calibrate + int(storm.rate * args.seconds)
    incidents, decisions = await counted(whole.admin_url)
    print(
        f"reports sent {sent:,}; agent stored {incidents:,} incidents, {decisions:,} decisions",
        flush=True,
    )
    lags = {s: await lag(whole.admin_url, s, before[s], sampler.upto[s]) for s in before}
    for service, found in lags.items():
        print(f"{service} audit lag in the storm: {found.describe()}", flush=True)
    worst = max(lags.values(), key=lambda found: found.p99_s)
    drained = sampler.drained_after()
    fig, base = p99(stormy.latencies), p99(quiet.latencies)
    clean = not (stormy.failed or stormy.unfinished or quiet.failed or quiet.unfinished)
    checks = {
        "market_storm_approve_p99": (fig, "ms", base, f"<={P99_MS:.0f}ms", fig <= P99_MS and clean),
        "market_storm_stored": (
            min(incidents, decisions),
            "reports",
            sent,
            "==sent",
            incidents == decisions == sent,
        ),
        "market_storm_drain": (
            drained if drained is not None else -1.0,
            "s",
            calm.drain_s,
            f"<={DRAIN_S:.0f}s",
            drained is not None and drained <= DRAIN_S,
        ),
        "market_storm_audit_lag_p99": (
            worst.p99_s,
            "s",
            quiet_lag.p99_s,
            f"<{LAG_S:.0f}s",
            worst.p99_s < LAG_S and all(f.recorded == f.rows for f in lags.values()),
        ),
    }
    for name, (figure, unit, baseline, target, ok) in checks.items():
        result(name, figure, unit, baseline, target, ok)
    return all(ok for *_, ok in checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--calibrate", type=int, default=20_000, help="reports to time triage alone"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="the storm's length")
    parser.add_argument("--wait", type=float, default=60.0, help="longest wait for the drain")
    args = parser.parse_args()
    with scratch("market-storm") as home, whole_system(home) as whole:
        ok = asyncio.run(run(whole, args))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
