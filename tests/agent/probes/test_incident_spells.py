"""A probe against a real local HTTP server: a failing spell is one incident, updated while it
lasts and resolved by the first passing run; every automatic step is audited with the probe's
name and version."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from runtime.db import Database
from services.agent.probes.domain.probes import Probe
from services.agent.probes.repository import probes as store
from services.agent.probes.tables import probe_runs
from services.agent.probes.workers.probes import ProbeWorker, WorkerOptions
from services.agent.triage.repository.incidents import get_incident
from services.agent.triage.tables import incidents
from tests.agent.probes.desk import Desk
from tests.agent.probes.helpers import Clock, events, latency_probe, put

LAGGING, HEALTHY = '{"lag_ms": 850}', '{"lag_ms": 12}'


async def incident_rows(db: Database) -> list[dict[str, object]]:
    async with db.transaction() as session:
        rows = await session.execute(select(incidents).order_by(incidents.c.created_at))
        return [dict(row._mapping) for row in rows]


async def test_a_failing_spell_opens_one_incident_updates_it_and_records_recovery(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    await put(agent_db, latency_probe(desk.url), clock)
    worker = ProbeWorker(agent_db, clock=clock)

    desk.flip(body=LAGGING)
    steps = []
    for _ in range(3):
        [run] = await worker.run_once(http)
        steps.append((run.status, run.incident_step))
        clock.advance(30)
    desk.flip(body=HEALTHY)
    [recovered] = await worker.run_once(http)

    assert steps == [("failing", "opened"), ("failing", "updated"), ("failing", "updated")]
    assert (recovered.status, recovered.incident_step) == ("ok", "recovered")
    [row] = await incident_rows(agent_db)
    assert row["occurrences"] == 3
    assert row["created_by"] == "probe:md-latency@v1"
    assert row["kind"] == "market_data_latency"
    assert row["subject"] == "XNAS-ITCH"
    assert row["metrics"] == {"lag_ms": 850.0, "threshold_ms": 500.0}
    assert str(row["summary"]).startswith("Feed lag 850 ms seen by md-latency v1")
    assert row["resolved_at"] == clock.now
    assert "probe:md-latency@v1 passed" in str(row["resolution"])
    assert recovered.incident_id == str(row["id"])
    assert len(desk.hits) == 4


async def test_the_next_failure_after_recovery_opens_a_new_incident(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    await put(agent_db, latency_probe(desk.url), clock)
    worker = ProbeWorker(agent_db, clock=clock)

    desk.flip(body=LAGGING)
    [first] = await worker.run_once(http)
    clock.advance(30)
    desk.flip(body=HEALTHY)
    await worker.run_once(http)
    clock.advance(30)  # well inside the intake's de-duplication window
    desk.flip(body=LAGGING)
    [second] = await worker.run_once(http)

    assert second.incident_step == "opened"
    assert second.incident_id != first.incident_id
    async with agent_db.transaction() as session:
        old = await get_incident(session, first.incident_id)
        new = await get_incident(session, second.incident_id)
    assert old is not None
    assert old.resolved_at is not None
    assert new is not None
    assert new.resolved_at is None
    assert new.occurrences == 1


async def test_passing_runs_open_nothing_and_are_kept_in_the_history(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    await put(agent_db, latency_probe(desk.url), clock)
    worker = ProbeWorker(agent_db, clock=clock)

    [run] = await worker.run_once(http)

    assert (run.status, run.value, run.error, run.incident_id) == ("ok", 12.0, "", "")
    assert await incident_rows(agent_db) == []
    assert await events(agent_db, "agent.probe.incident") == []


async def test_every_automatic_step_is_audited_with_the_probe_name_and_version(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    probe = await put(agent_db, latency_probe(desk.url), clock)
    worker = ProbeWorker(agent_db, clock=clock)
    desk.flip(body=LAGGING)
    [opened] = await worker.run_once(http)
    await put(agent_db, latency_probe(desk.url, interval_s=60), clock)  # version 2
    [updated] = await worker.run_once(http)
    clock.advance(60)
    desk.flip(body=HEALTHY)
    await worker.run_once(http)

    steps = await events(agent_db, "agent.probe.incident_")
    assert [(e["action"], e["payload"]["version"]) for e in steps] == [
        ("agent.probe.incident_opened", 1),
        ("agent.probe.incident_updated", 2),
        ("agent.probe.incident_recovered", 2),
    ]
    assert {e["target"] for e in steps} == {f"incident/{opened.incident_id}"}
    assert [e["actor"]["subject"] for e in steps] == [
        "probe:md-latency@v1",
        "probe:md-latency@v2",
        "probe:md-latency@v2",
    ]
    assert all(e["payload"]["probe"] == "md-latency" for e in steps)
    assert all(e["payload"]["probe_id"] == probe.id for e in steps)
    assert steps[1]["payload"]["run_id"] == updated.id
    incident_events = await events(agent_db, "agent.incident.")
    assert [(e["action"], e["actor"]["subject"]) for e in incident_events] == [
        ("agent.incident.created", "probe:md-latency@v1"),
        ("agent.incident.repeated", "probe:md-latency@v2"),
        ("agent.incident.resolved", "probe:md-latency@v2"),
    ]


async def test_a_probe_whose_server_answers_too_slowly_is_failing(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    await put(agent_db, latency_probe(desk.url, timeout_s=0.2), clock)
    desk.flip(delay_s=1.0)

    [run] = await ProbeWorker(agent_db, clock=clock).run_once(http)

    assert run.status == "failing"
    assert run.value is None
    assert run.error == "no answer within 0.2 s"
    assert run.duration_ms < 900
    assert run.incident_step == "opened"
    [row] = await incident_rows(agent_db)
    assert "no answer within 0.2 s" in str(row["summary"])


async def test_an_http_error_or_unreachable_host_is_failing(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    await put(agent_db, latency_probe(desk.url), clock)
    await put(agent_db, latency_probe("http://127.0.0.1:9", name="closed-port"), clock)
    desk.flip(status=503, body="down for maintenance")

    runs = {r.probe_name: r for r in await ProbeWorker(agent_db, clock=clock).run_once(http)}

    assert runs["md-latency"].error == "HTTP 503 Service Unavailable"
    assert runs["closed-port"].status == "failing"
    assert runs["closed-port"].error.startswith("ConnectError")
    assert len(await incident_rows(agent_db)) == 2


async def test_after_downtime_a_probe_runs_once_not_once_per_missed_interval(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    await put(agent_db, latency_probe(desk.url), clock)
    worker = ProbeWorker(agent_db, clock=clock)
    await worker.run_once(http)

    clock.advance(30 * 20)  # twenty intervals missed
    caught_up = await worker.run_once(http)
    again = await worker.run_once(http)
    clock.advance(29)
    early = await worker.run_once(http)
    clock.advance(1)
    due = await worker.run_once(http)

    assert (len(caught_up), len(again), len(early), len(due)) == (1, 0, 0, 1)
    assert len(desk.hits) == 3


async def test_only_the_latest_runs_are_kept_per_probe(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    probe = await put(agent_db, latency_probe(desk.url), clock)
    worker = ProbeWorker(agent_db, WorkerOptions(keep_runs=3), clock=clock)
    kept = []
    for _ in range(5):
        [run] = await worker.run_once(http)
        kept.append(run.id)
        clock.advance(30)

    async with agent_db.transaction() as session:
        rows = await session.execute(
            select(probe_runs.c.id).where(probe_runs.c.probe_id == probe.id)
        )
        stored = {str(row.id) for row in rows}
    assert stored == set(kept[-3:])


async def test_a_new_incident_is_handed_to_triage_once_per_spell(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    await put(agent_db, latency_probe(desk.url), clock)
    handed: list[tuple[str, int]] = []

    async def triage(incident_id: str, probe: Probe) -> None:
        handed.append((incident_id, probe.version))

    worker = ProbeWorker(agent_db, clock=clock, on_opened=triage)
    desk.flip(body=LAGGING)
    [opened] = await worker.run_once(http)
    clock.advance(30)
    await worker.run_once(http)

    assert handed == [(opened.incident_id, 1)]


async def test_a_worker_that_dies_after_claiming_loses_that_run_not_the_schedule(
    agent_db: Database, desk: Desk, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    probe = await put(agent_db, latency_probe(desk.url), clock)
    async with agent_db.transaction() as session:
        [claimed] = await store.claim_due(session, clock(), 10)  # ... and then the worker died
    worker = ProbeWorker(agent_db, clock=clock)

    meanwhile = await worker.run_once(http)
    clock.advance(30)
    [after] = await worker.run_once(http)

    assert claimed.id == probe.id
    assert meanwhile == []
    assert after.probe_id == probe.id
