"""Two workers on their own connections (two agent replicas) claim from the same committed
schedule: every due probe runs exactly once per interval, whichever worker takes it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete, select, text

from runtime.db import Database
from runtime.pgserver import LocalPostgres
from runtime.provision import owner_url
from services.agent.probes.domain.probes import RunRecord
from services.agent.probes.tables import probe_runs, probe_versions, probes
from services.agent.probes.workers.probes import ProbeWorker, WorkerOptions
from tests.agent.probes.desk import Desk
from tests.agent.probes.helpers import Clock, latency_probe, put

NAMES = [f"twin-{n}" for n in range(6)]


@pytest.fixture
async def committed(
    db_urls: dict[str, str], pg_server: LocalPostgres
) -> AsyncIterator[tuple[Database, Database]]:
    """Two real connection pools; what the test committed is deleted afterwards, as the schema's
    owner (the service's role may not delete probe versions)."""
    first, second = Database.connect(db_urls["agent"]), Database.connect(db_urls["agent"])
    owner = Database.connect(owner_url(pg_server.url(), "agent"))
    try:
        yield first, second
    finally:
        async with owner.transaction() as session:
            ids = select(probes.c.id).where(probes.c.name.in_(NAMES))
            targets = [f"probe/{row.id}" for row in await session.execute(ids)]
            await session.execute(
                text("DELETE FROM agent.outbox WHERE event->>'target' = ANY(:targets)"),
                {"targets": targets},
            )
            await session.execute(delete(probe_runs).where(probe_runs.c.probe_id.in_(ids)))
            await session.execute(delete(probe_versions).where(probe_versions.c.probe_id.in_(ids)))
            await session.execute(delete(probes).where(probes.c.name.in_(NAMES)))
        await owner.dispose()
        await first.dispose()
        await second.dispose()


async def drain(worker: ProbeWorker, http: httpx.AsyncClient) -> list[RunRecord]:
    """Passes until this worker finds nothing due, as its loop would."""
    ran: list[RunRecord] = []
    while found := await worker.run_once(http):
        ran.extend(found)
    return ran


async def test_two_workers_run_each_due_probe_once(
    committed: tuple[Database, Database], desk: Desk, http: httpx.AsyncClient
) -> None:
    first_db, second_db = committed
    clock = Clock()
    for name in NAMES:
        await put(first_db, latency_probe(desk.url, name=name), clock)
    desk.flip(delay_s=0.05)  # requests overlap, so both workers are claiming at once
    one = ProbeWorker(first_db, WorkerOptions(batch=1), clock=clock)
    other = ProbeWorker(second_db, WorkerOptions(batch=1), clock=clock)

    rounds = []
    for _ in range(3):
        a, b = await asyncio.gather(drain(one, http), drain(other, http))
        rounds.append(Counter(run.probe_name for run in a + b))
        clock.advance(30)

    assert rounds == [Counter(NAMES)] * 3
    assert len(desk.hits) == 3 * len(NAMES)
