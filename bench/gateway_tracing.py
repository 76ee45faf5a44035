"""Tracing overhead on the approve path: approvals/s through the gateway with tracing on
(every trace sampled, spans batch-exported over OTLP/HTTP to a local receiver, from the gateway,
ops and audit) against tracing off (TRADEOPS_TRACING=off: no instrumentation at all), measured
in the same run on the same kind of system. Each mode runs twice, alternating (off, on, off,
on), on a fresh system each time, and the better of each pair counts, so a noisy moment on this
shared machine does not decide the ratio. Target: ratio >= 0.8.

    .venv/bin/python bench/gateway_tracing.py [--approvals N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import result, scratch
from _ops_http import LeanClient
from _ops_stack import System, closed_loop, system
from _otlp_sink import OtlpSink
from ops_decisions import Caller, propose

TARGET = 0.8


def tracing_env(sink: OtlpSink | None) -> dict[str, str]:
    if sink is None:
        return {"TRADEOPS_TRACING": "off"}
    return {
        "TRADEOPS_TRACING": "on",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint,
        "OTEL_TRACES_SAMPLER": "always_on",
        "OTEL_METRICS_EXPORTER": "none",
    }


async def approvals_per_s(sys_: System, count: int, concurrency: int) -> float:
    ids = await propose(sys_, count + 50)
    headers = {"Authorization": f"Bearer {sys_.token('ops-bench', 'ops')}"}
    client = LeanClient(sys_.stack.gateway_url(), headers)
    path = "/agent/ops/actions/{}/approve"
    try:
        await closed_loop(Caller(client, path, ids[:50]), 50, 8)  # warm-up
        return await closed_loop(Caller(client, path, ids[50:]), count, concurrency)
    finally:
        await client.aclose()


def one_run(home: Path, traced: bool, args: argparse.Namespace) -> float:
    sink = OtlpSink() if traced else None
    try:
        with system(home, gateway=True, extra_env=tracing_env(sink)) as sys_:
            rate = asyncio.run(approvals_per_s(sys_, args.approvals, args.concurrency))
    finally:
        if sink is not None:
            sink.close()
    spans = (
        f", {sink.spans / (args.approvals + 50):.1f} spans exported per action (proposed, approved)"
        if sink
        else ""
    )
    print(f"tracing {'on ' if traced else 'off'}: {rate:.0f} approvals/s{spans}", flush=True)
    if sink is not None:
        if sink.spans == 0:
            raise RuntimeError("tracing was on but no span reached the receiver")
        common = ", ".join(f"{name} {n}" for name, n in sink.names.most_common(8))
        print(f"  most frequent spans: {common}", flush=True)
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--approvals", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    rates: dict[bool, list[float]] = {False: [], True: []}
    with scratch("gateway-tracing") as home:
        for index, traced in enumerate((False, True, False, True)):
            rates[traced].append(one_run(home / f"run{index}", traced, args))
    on, off = max(rates[True]), max(rates[False])
    ok = on / off >= TARGET
    result("gateway_tracing", on, "approvals/s", off, f"ratio>={TARGET}", ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
