from __future__ import annotations

import uuid

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

from runtime.db import Database
from services.audit.siem.domain.batches import Position
from services.audit.siem.repository import cursors as store
from services.audit.siem.repository.claims import AdvisoryClaim
from services.audit.siem.service.forwarding import lags
from services.audit.siem.workers.lag import GAUGE, LagBoard, register_gauge
from tests.audit.factories import events
from tests.audit.siem.support import append, audit_log, start_at_head


async def test_a_new_destination_starts_before_the_first_record(live_db: Database) -> None:
    name = f"test-new-{uuid.uuid4().hex[:8]}"

    async with live_db.transaction() as session:
        assert await store.cursor(session, name) == Position(-1, 0)


async def test_lag_counts_the_records_a_destination_has_not_confirmed(live_db: Database) -> None:
    name = f"test-lag-{uuid.uuid4().hex[:8]}"
    start = await start_at_head(live_db, name)
    assert (await lags(live_db))[name] == 0

    async with audit_log(live_db, every_records=1000) as log:
        seqs = await append(log, events(5))
    assert (await lags(live_db))[name] == 5

    async with live_db.transaction() as session:
        await store.advance(session, name, Position(seqs[2], start.checkpoint_size))
        await store.advance(session, name, Position(seqs[0], start.checkpoint_size))
    assert (await lags(live_db))[name] == 2  # a cursor never moves back


def test_the_lag_gauge_reports_each_destination() -> None:
    reader = InMemoryMetricReader()
    board = LagBoard()
    register_gauge(board, MeterProvider(metric_readers=[reader]).get_meter("test"))
    board.set("soc", 7)
    board.set("hec", 0)

    data = reader.get_metrics_data()

    assert data is not None
    (metric,) = [m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics]
    points = [p for p in metric.data.data_points if isinstance(p, NumberDataPoint)]
    assert metric.name == GAUGE
    assert len(points) == len(metric.data.data_points)
    values = {str(dict(p.attributes or {})["destination"]): p.value for p in points}
    assert values == {"soc": 7, "hec": 0}


async def test_only_one_replica_at_a_time_holds_a_destination(live_db: Database) -> None:
    assert live_db.engine is not None
    name = f"test-claim-{uuid.uuid4().hex[:8]}"
    first, second = AdvisoryClaim(live_db.engine, name), AdvisoryClaim(live_db.engine, name)
    try:
        assert await first.acquire()
        assert not await second.acquire()
        assert await first.acquire()  # still held by the first

        await first.release()

        assert await second.acquire()
        assert not await first.held()
    finally:
        await first.release()
        await second.release()
