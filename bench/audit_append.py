"""Benchmark: events per second durably appended through the audit service's gRPC AppendEvents
(a separate `python -m services.audit` process, Merkle tree and checkpoints every 1000 records /
1000 ms), 8 concurrent callers sending batches of 500, against plain psycopg INSERTs of the same
rows (records + payloads, same indexes) in 100-row transactions on the same server, same run.
Second figure: p99 acknowledgement latency at 5,000 events/s offered (open loop, 50 every 10 ms),
measured after a CHECKPOINT so the first phases' writes are not flushed during it.

Usage: .venv/bin/python bench/audit_append.py [--events N] (default 200,000)"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from _append_client import latency, throughput
from _common import Cluster, postgres, result, scratch
from _populated import event
from _service import Served, audit_service
from psycopg import Connection

from runtime.canonical import canonical_json
from services.audit.log.domain.records import GENESIS, Head, Record, sequence

TARGET_RATE, TARGET_RATIO, TARGET_P99_MS = 20_000, 0.5, 50.0
BASELINE_BATCH = 100

_RECORD_COLUMNS = (
    "seq, event_id, occurred_at, actor, action, target, outcome, trace_id, source,"
    " payload_sha256, prev_hash, leaf_hash"
)
_INSERT_RECORD = (
    f"INSERT INTO bench_baseline.records ({_RECORD_COLUMNS})"
    " VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_PAYLOAD = "INSERT INTO bench_baseline.payloads (seq, payload_json) VALUES (%s, %s)"
_SETUP = (
    "CREATE SCHEMA bench_baseline",
    "CREATE TABLE bench_baseline.records (LIKE audit.records INCLUDING ALL)",
    "CREATE TABLE bench_baseline.payloads (LIKE audit.payloads INCLUDING ALL)",
)


def baseline_rows(count: int) -> list[Record]:
    return sequence(Head(0, GENESIS), [event(i) for i in range(count)], {}).records


def _row(record: Record) -> tuple[object, ...]:
    e = record.event
    actor = canonical_json(e.actor.as_dict())
    head = (record.seq, e.event_id, e.occurred_at, actor, e.action, e.target, e.outcome)
    return (*head, e.trace_id, e.source, record.payload_sha256, record.prev_hash, record.leaf_hash)


def insert_baseline(admin_url: str, records: list[Record]) -> tuple[float, float]:
    """(rows per second, p99 ms of one transaction): plain durable INSERTs, 100 rows each."""
    rows = [_row(r) for r in records]
    payloads = [(r.seq, r.event.payload_json) for r in records]
    spans: list[float] = []
    with Connection.connect(admin_url, autocommit=True) as conn:
        for statement in _SETUP:
            conn.execute(statement)
        started = time.perf_counter()
        for start in range(0, len(rows), BASELINE_BATCH):
            began = time.perf_counter()
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(_INSERT_RECORD, rows[start : start + BASELINE_BATCH])
                cursor.executemany(_INSERT_PAYLOAD, payloads[start : start + BASELINE_BATCH])
            spans.append(time.perf_counter() - began)
        rate = len(rows) / (time.perf_counter() - started)
    spans.sort()
    return rate, spans[int(len(spans) * 0.99)] * 1000


def settle(admin_url: str) -> None:
    """Flushes what the earlier phases wrote: without it the checkpoint their WAL volume
    triggers (max_wal_size) tends to start as the latency phase begins, and its writes and
    fsyncs, not the 5,000 events/s, make that phase's tail (p99 50-70 ms when it did)."""
    with Connection.connect(admin_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


async def measure_service(served: Served, count: int, admin_url: str) -> tuple[float, list[float]]:
    await throughput(served, first=10**9, count=5_000, callers=8, batch=500)  # warm-up
    rate = await throughput(served, first=0, count=count, callers=8, batch=500)
    print(f"service: {rate:,.0f} events/s through AppendEvents", flush=True)
    await asyncio.to_thread(settle, admin_url)
    spans = await latency(served, first=2 * 10**9, seconds=10.0, every_s=0.010, batch=50)
    return rate, spans


def run(cluster: Cluster, work: Path, count: int) -> None:
    baseline, baseline_p99 = insert_baseline(cluster.admin_url, baseline_rows(count))
    print(f"baseline: {baseline:,.0f} rows/s (plain INSERT, {BASELINE_BATCH} per commit)")

    async def served() -> tuple[float, list[float]]:
        async with audit_service(cluster, work / "keys.json") as service:
            return await measure_service(service, count, cluster.admin_url)

    rate, spans = asyncio.run(served())
    spans.sort()
    p50, p99 = spans[len(spans) // 2] * 1000, spans[int(len(spans) * 0.99)] * 1000
    print(f"latency at 5,000 events/s offered: p50 {p50:.1f} ms, p99 {p99:.1f} ms, n={len(spans)}")
    result(
        "audit_append_p99", p99, "ms", baseline_p99, f"<={TARGET_P99_MS:g}", p99 <= TARGET_P99_MS
    )
    ok = rate >= TARGET_RATE and rate / baseline >= TARGET_RATIO
    result("audit_append", rate, "events/s", baseline, f">={TARGET_RATE}&ratio>={TARGET_RATIO}", ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200_000)
    count = parser.parse_args().events
    with scratch("append") as work, postgres(work / "pgdata") as cluster:
        run(cluster, work, count)


if __name__ == "__main__":
    main()
