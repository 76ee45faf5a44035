"""Benchmark: records per second of a full live verification
(services.audit.log.service.verification.verify_log: every payload hash, chain link, leaf hash,
the Merkle tree and every signed checkpoint) of a 1,000,000-record log, against a plain SHA-256
chain (canonical JSON, sha256(prev || encoded)) over the same pages read the same way, in the
same run. --read-floor also times reading the pages alone (a third pass).

Usage: .venv/bin/python bench/audit_verify.py [--records N] [--read-floor]  (N: 1,000,000)"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import time
from pathlib import Path

from _common import ORIGIN, Cluster, result
from _populated import populated

from runtime.canonical import canonical_json
from runtime.db import Database
from services.audit.log.domain.checkpoints.cutting import Cadence, Checkpointer
from services.audit.log.domain.records import Actor, Record
from services.audit.log.repository import head
from services.audit.log.repository import records as repository
from services.audit.log.service.log import AuditLog
from services.audit.log.service.reading import PAGE
from services.audit.log.service.sequencer import Sequencer
from services.audit.log.service.verification import verify_log
from services.audit.log.settings import keys_file as read_keys

TARGET_RATIO = 0.5
CALLER = Actor("bench", (), "agent", "1", "")


def plain_encoding(record: Record) -> bytes:
    event = record.event
    return canonical_json(
        {
            "seq": record.seq,
            "event_id": event.event_id,
            "occurred_at": event.occurred_at.isoformat(),
            "actor": event.actor.as_dict(),
            "action": event.action,
            "target": event.target,
            "outcome": event.outcome,
            "trace_id": event.trace_id,
            "source": event.source,
            "payload_sha256": record.payload_sha256,
        }
    ).encode("utf-8")


async def read_pages(db: Database, size: int, chain: bool) -> int:
    """Reads [0, size) as verify_log does (pages of PAGE, one transaction each)."""
    after, count, prev = -1, 0, bytes(32)
    while after < size - 1:
        async with db.transaction() as session:
            found = await repository.page(session, after_seq=after, limit=PAGE, upto=size - 1)
        if not found:
            break
        if chain:
            for record in found:
                prev = hashlib.sha256(prev + plain_encoding(record)).digest()
        count, after = count + len(found), found[-1].seq
    return count


async def timed_pages(db: Database, size: int, chain: bool) -> float:
    started = time.perf_counter()
    count = await read_pages(db, size, chain)
    return count / (time.perf_counter() - started)


async def measure(cluster: Cluster, keys_file: Path, read_floor: bool) -> tuple[float, float]:
    db = Database.connect(cluster.audit_url)
    keyring = read_keys(keys_file)
    sequencer = Sequencer(db, Checkpointer(keyring, ORIGIN, Cadence(1000, 1000)))
    worker = asyncio.create_task(sequencer.run())  # verify_log records its own run
    try:
        async with db.transaction() as session:
            size = (await head.read_head(session)).size
        # verify_log goes first: if caches are still cold, the figure pays, not the baseline.
        started = time.perf_counter()
        verdict = await verify_log(AuditLog(db, sequencer, ORIGIN), caller=CALLER)
        figure = verdict.checked / (time.perf_counter() - started)
        if not verdict.ok:
            raise SystemExit(f"the log did not verify: {verdict}")
        print(f"verify_log: {verdict.checked:,} records, {figure:,.0f} records/s", flush=True)
        baseline = await timed_pages(db, size, chain=True)
        print(f"baseline (plain sha256 chain): {baseline:,.0f} records/s", flush=True)
        if read_floor:
            reading = await timed_pages(db, size, chain=False)
            print(f"reading the pages alone: {reading:,.0f} records/s", flush=True)
        return figure, baseline
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument(
        "--read-floor", action="store_true", help="also time reading the pages with no hashing"
    )
    args = parser.parse_args()
    with populated(args.records) as (cluster, keys_file):
        figure, baseline = asyncio.run(measure(cluster, keys_file, args.read_floor))
    ok = figure / baseline >= TARGET_RATIO
    result("audit_verify", figure, "records/s", baseline, f"ratio>={TARGET_RATIO}", ok)


if __name__ == "__main__":
    main()
