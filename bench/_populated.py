"""A log of N records for the read-side benchmarks; import-only (`make bench` skips bench/_*.py).

Populating goes through the real Sequencer in-process (chain, Merkle nodes, signed checkpoints,
durable commits of 5,000 events). The result is kept in CACHE/audit-<N>/ (data folder, keys file,
a `ready` marker) and every run works on a copy, so audited reads made by one run (each proof
and each verification appends a record) never change what the next run measures."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from _common import CACHE, OCCURRED_AT, ORIGIN, Cluster, copy_tree, fields, postgres, scratch

from runtime.db import Database
from services.audit.log.domain.checkpoints.cutting import Cadence, Checkpointer
from services.audit.log.domain.keyring import Keyring, generate_dev_keyring
from services.audit.log.domain.records import Actor, Event
from services.audit.log.service.keyring import check_keyring
from services.audit.log.service.sequencer import Sequencer

KEYS = "keys.json"
STEP = 5000  # events per append, and so per durable commit (one caller, nothing else queued)


def event(index: int) -> Event:
    found = fields(index)
    actor = found.actor
    return Event(
        event_id=found.event_id,
        occurred_at=OCCURRED_AT,
        actor=Actor(str(actor["subject"]), ("ops",), str(actor["kind"])),
        action=found.action,
        target=found.target,
        outcome="success",
        trace_id=found.trace_id,
        source="ops",
        payload_json=found.payload_json,
    )


async def populate(cluster: Cluster, keyring: Keyring, count: int) -> None:
    db = Database.connect(cluster.audit_url)
    sequencer = Sequencer(db, Checkpointer(keyring, ORIGIN, Cadence(1000, 1000)))
    await check_keyring(db, keyring)
    worker = asyncio.create_task(sequencer.run())
    started, step = time.perf_counter(), STEP
    try:
        for start in range(0, count, step):
            await sequencer.append([event(i) for i in range(start, min(start + step, count))])
            if (start + step) % 100_000 == 0:
                rate = (start + step) / (time.perf_counter() - started)
                print(f"  populated {start + step:,} records ({rate:,.0f}/s)", flush=True)
        await sequencer.checkpoint_if_due()
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await db.dispose()


def cached_log(name: str, count: int, fill: Callable[[Cluster, Keyring], None]) -> Path:
    """CACHE/<name>/: a stopped server's data folder holding a log of `count` records made by
    `fill` (signed with the keys beside it), made once: `ready` is written last."""
    folder = CACHE / name
    if (folder / "ready").exists():
        print(f"using the cached log of {count:,} records in {folder}", flush=True)
        return folder
    print(f"making a log of {count:,} records (cached in {folder})", flush=True)
    if folder.exists():
        shutil.rmtree(folder)  # an interrupted earlier attempt: start over
    folder.mkdir(parents=True)
    keyring = generate_dev_keyring("tradeops.bench-audit")
    (folder / KEYS).write_text(keyring.to_json())
    (folder / KEYS).chmod(0o600)
    with postgres(folder / "pgdata") as cluster:
        fill(cluster, keyring)
    (folder / "ready").touch()
    return folder


def _through_sequencer(count: int) -> Callable[[Cluster, Keyring], None]:
    return lambda cluster, keyring: asyncio.run(populate(cluster, keyring, count))


@contextlib.contextmanager
def populated(count: int) -> Iterator[tuple[Cluster, Path]]:
    """A running durable server holding a copy of the cached log, and its signing keys file."""
    cached = cached_log(f"audit-{count}", count, _through_sequencer(count))
    with scratch("populated") as work:
        copy_tree(cached / "pgdata", work / "pgdata")
        copy_tree(cached / KEYS, work / KEYS)
        with postgres(work / "pgdata") as cluster:
            yield cluster, work / KEYS
