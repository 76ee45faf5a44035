"""Tracing overhead on the approve path: approvals/s through the gateway with tracing on, spans
batch-exported over OTLP/HTTP to a local receiver from the gateway, ops and audit, with 10% of
new traces sampled (parent-based: a trace is whole or absent) and with every trace sampled,
against tracing off (TRADEOPS_TRACING=off: no instrumentation at all), measured in the same run
on the same kind of system. Each mode runs twice, in turn (off, 10%, 100%, off, 10%, 100%), on a
fresh system each time, and the better of each pair counts, so a noisy moment on this shared
machine does not decide a ratio. Targets: ratio >= 0.9 at 10%, >= 0.8 at 100%.

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

OFF = 0.0
MODES = {0.1: ("gateway_tracing_10pct", 0.9), 1.0: ("gateway_tracing", 0.8)}  # name, target


def tracing_env(sink: OtlpSink | None, share: float) -> dict[str, str]:
    if sink is None:
        return {"TRADEOPS_TRACING": "off"}
    return {
        "TRADEOPS_TRACING": "on",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint,
        # Parent-based: the gateway decides for the trace, ops and audit follow it.
        "TRADEOPS_TRACE_SAMPLE_RATIO": str(share),
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


def one_run(home: Path, share: float, args: argparse.Namespace) -> float:
    sink = OtlpSink() if share else None
    try:
        with system(home, gateway=True, extra_env=tracing_env(sink, share)) as sys_:
            rate = asyncio.run(approvals_per_s(sys_, args.approvals, args.concurrency))
    finally:
        if sink is not None:
            sink.close()
    spans = (
        f", {sink.spans / (args.approvals + 50):.1f} spans exported per action (proposed, approved)"
        if sink
        else ""
    )
    mode = f"on, {share:.0%} sampled" if share else "off"
    print(f"tracing {mode}: {rate:.0f} approvals/s{spans}", flush=True)
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
    rates: dict[float, list[float]] = {OFF: [], **{share: [] for share in MODES}}
    with scratch("gateway-tracing") as home:
        for index, share in enumerate([*rates, *rates]):
            rates[share].append(one_run(home / f"run{index}", share, args))
    off, ok = max(rates[OFF]), True
    for share, (name, target) in MODES.items():
        on = max(rates[share])
        ok &= on / off >= target
        result(name, on, "approvals/s", off, f"ratio>={target}", on / off >= target)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
