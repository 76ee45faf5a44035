"""Exports whose generation stopped without finishing (process killed, database lost) are failed
by the sweeper, files removed and audited; a generation still beating, and anything already
sealed, is left alone. While a generation runs, its heartbeat moves forward."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from runtime.auth import Principal
from runtime.db import Database
from services.export.domain.exports import Export, ExportState, now
from services.export.domain.requests import ExportRequest
from services.export.repository import exports as repository
from services.export.service.exports import Exporter, create_export
from services.export.service.sealing import Superseded, seal
from services.export.service.sweeping import INTERRUPTED, sweep_stale
from services.export.tables import exports, outbox
from tests.export.conftest import FakeReports
from tests.export.test_create_export import events_for

STALE_AFTER = timedelta(seconds=120)
LONG_AGO = timedelta(minutes=10)


async def put_export(
    db: Database, state: ExportState, *, quiet_for: timedelta, beat_ago: timedelta | None = None
) -> Export:
    """An export last changed `quiet_for` ago, its last heartbeat `beat_ago` ago (or none)."""
    at = now() - quiet_for
    export = Export(
        id=str(uuid.uuid4()),
        kind="actions_report",
        state=state,
        requested_by="carol",
        created_at=at,
        updated_at=at,
    )
    async with db.transaction() as session:
        await repository.add(session, export)
        if beat_ago is not None:
            beat = update(exports).where(exports.c.id == export.id)
            await session.execute(beat.values(heartbeat_at=now() - beat_ago))
    return export


async def state_of(db: Database, export_id: str) -> tuple[str, str]:
    query = select(exports.c.state, exports.c.failure_reason).where(exports.c.id == export_id)
    async with db.transaction() as session:
        row = (await session.execute(query)).one()
    return row.state, row.failure_reason


def staging_of(export_dir: Path, export: Export) -> Path:
    staging = export_dir / export.staging
    staging.mkdir(parents=True)
    (staging / "actions.jsonl").write_text('{"id": "a1"}\n')
    return staging


@pytest.mark.parametrize("state", [ExportState.GENERATING, ExportState.REQUESTED])
async def test_an_export_stuck_without_a_heartbeat_is_failed_and_its_staging_removed(
    export_db: Database, tmp_path: Path, state: ExportState
) -> None:
    stuck = await put_export(export_db, state, quiet_for=LONG_AGO, beat_ago=LONG_AGO)
    staging = staging_of(tmp_path, stuck)

    await sweep_stale(export_db, tmp_path, now(), STALE_AFTER)

    assert await state_of(export_db, stuck.id) == ("failed", INTERRUPTED)
    assert INTERRUPTED == (
        "interrupted: generation stopped without finishing"
        " (process restart or lost database connection)"
    )
    assert not staging.exists()
    failed = [e for e in await events_for(export_db, stuck.id) if e["action"] == "export.failed"]
    assert len(failed) == 1
    assert failed[0]["outcome"] == "failure"
    payload = json.loads(failed[0]["payload_json"])
    assert payload["reason"] == INTERRUPTED
    assert set(payload) == {"kind", "format", "parameters", "destination", "client_key", "reason"}
    assert failed[0]["actor"]["subject"] == "export-sweeper"


async def test_a_generation_still_beating_and_sealed_exports_are_left_alone(
    export_db: Database, tmp_path: Path
) -> None:
    alive = await put_export(
        export_db, ExportState.GENERATING, quiet_for=LONG_AGO, beat_ago=timedelta(seconds=5)
    )
    just_started = await put_export(export_db, ExportState.GENERATING, quiet_for=timedelta(0))
    sealed = {
        state: await put_export(export_db, state, quiet_for=LONG_AGO)
        for state in (ExportState.SIGNED, ExportState.DELIVERING, ExportState.DELIVERED)
    }
    staging = staging_of(tmp_path, alive)

    await sweep_stale(export_db, tmp_path, now(), STALE_AFTER)

    assert await state_of(export_db, alive.id) == ("generating", "")
    assert await state_of(export_db, just_started.id) == ("generating", "")
    for state, export in sealed.items():
        assert await state_of(export_db, export.id) == (state.value, "")
    assert staging.exists()
    for export in (alive, just_started, *sealed.values()):
        assert await events_for(export_db, export.id) == []


@pytest.fixture
async def committed_stuck(replicas: tuple[Database, Database]) -> AsyncIterator[list[Export]]:
    db = replicas[0]
    made = [await put_export(db, ExportState.GENERATING, quiet_for=LONG_AGO) for _ in range(6)]
    yield made
    async with db.transaction() as session:  # committed for real: leave nothing behind
        targets = [f"export/{e.id}" for e in made]
        await session.execute(delete(outbox).where(outbox.c.event["target"].astext.in_(targets)))
        await session.execute(delete(exports).where(exports.c.id.in_([e.id for e in made])))


async def test_two_sweepers_at_once_fail_each_stuck_export_once(
    replicas: tuple[Database, Database], committed_stuck: list[Export], tmp_path: Path
) -> None:
    at = now()
    await asyncio.gather(*(sweep_stale(db, tmp_path, at, STALE_AFTER) for db in replicas))

    for export in committed_stuck:
        assert (await state_of(replicas[0], export.id))[0] == "failed"
        actions = [e["action"] for e in await events_for(replicas[0], export.id)]
        assert actions == ["export.failed"]


async def test_a_sweeper_skips_an_export_another_sweeper_holds(
    replicas: tuple[Database, Database], committed_stuck: list[Export], tmp_path: Path
) -> None:
    held = committed_stuck[0]
    async with replicas[0].transaction() as session:
        lock = select(exports.c.id).where(exports.c.id == held.id).with_for_update()
        await session.execute(lock)
        async with asyncio.timeout(5):  # waiting for the held row would be the defect
            await sweep_stale(replicas[1], tmp_path, now(), STALE_AFTER)
        assert (await state_of(replicas[1], held.id))[0] == "generating"

    assert (await state_of(replicas[1], committed_stuck[1].id))[0] == "failed"
    assert await events_for(replicas[1], held.id) == []


class SlowReports(FakeReports):
    """Actions that arrive only once the test releases them."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def actions(
        self, export: Export, caller: Principal
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        await self.release.wait()
        async for row in super().actions(export, caller):
            yield row


async def heartbeat_of(db: Database, export_id: str) -> datetime | None:
    query = select(exports.c.heartbeat_at).where(exports.c.id == export_id)
    async with db.transaction() as session:
        found: datetime | None = (await session.execute(query)).scalar_one()
    return found


async def test_the_heartbeat_moves_forward_while_an_export_is_generated(
    export_db: Database, exporter: Exporter, principal_for: Callable[..., Principal]
) -> None:
    reports = SlowReports()
    exporter = dataclasses.replace(exporter, reports=reports, heartbeat_s=0.05)
    carol = principal_for("carol", "compliance")
    request = ExportRequest(kind="actions_report", client_key="slow-1")
    creating = asyncio.create_task(create_export(exporter, request, carol))
    try:
        beats = await _beats(export_db, carol, count=3)
    finally:
        reports.release.set()
        done = await creating
    last = await heartbeat_of(export_db, done.id)
    await asyncio.sleep(0.2)

    assert len(beats) == 3
    assert beats == sorted(beats)  # distinct, each later than the one before
    assert done.state is ExportState.SIGNED
    assert await heartbeat_of(export_db, done.id) == last  # the beating stopped with generation


async def _beats(db: Database, caller: Principal, *, count: int) -> list[datetime]:
    """The distinct heartbeats seen, polling until `count` were seen (or 5 s pass)."""
    seen: list[datetime] = []
    async with asyncio.timeout(5):
        while len(seen) < count:
            await asyncio.sleep(0.02)
            async with db.transaction() as session:
                export = await repository.by_client_key(session, caller.subject, "slow-1")
            beat = None if export is None else await heartbeat_of(db, export.id)
            if beat is not None and beat not in seen:
                seen.append(beat)
    return seen


async def test_a_generation_swept_as_interrupted_is_not_signed_when_it_resumes(
    export_db: Database, exporter: Exporter, principal_for: Callable[..., Principal]
) -> None:
    """A generation silent past the threshold (say, a long database outage) that comes back
    after the sweeper failed it signs nothing: the one record is the sweeper's failure."""
    reports = SlowReports()
    exporter = dataclasses.replace(exporter, reports=reports)
    carol = principal_for("carol", "compliance")
    request = ExportRequest(kind="actions_report", client_key="slow-1")
    creating = asyncio.create_task(create_export(exporter, request, carol))
    try:
        export_id = await _generating(export_db, carol)
        swept = await sweep_stale(export_db, exporter.export_dir, now() + LONG_AGO, STALE_AFTER)
    finally:
        reports.release.set()
        done = await creating

    assert swept == 1
    assert (done.state, done.failure_reason) == (ExportState.FAILED, INTERRUPTED)
    assert await state_of(export_db, export_id) == ("failed", INTERRUPTED)
    actions = [e["action"] for e in await events_for(export_db, export_id)]
    assert actions == ["export.requested", "export.failed"]
    assert not (exporter.export_dir / export_id).exists()
    assert not (exporter.export_dir / done.staging).exists()


async def _generating(db: Database, caller: Principal) -> str:
    async with asyncio.timeout(5):
        while True:
            async with db.transaction() as session:
                export = await repository.by_client_key(session, caller.subject, "slow-1")
            if export is not None and export.state is ExportState.GENERATING:
                return export.id
            await asyncio.sleep(0.02)


async def test_sealing_an_export_the_sweeper_failed_signs_and_publishes_nothing(
    export_db: Database, exporter: Exporter, principal_for: Callable[..., Principal]
) -> None:
    swept = await put_export(export_db, ExportState.FAILED, quiet_for=timedelta(0))
    staging = staging_of(exporter.export_dir, swept)
    final = exporter.export_dir / swept.directory
    carol = principal_for("carol", "compliance")
    with pytest.raises(Superseded):
        await seal(export_db, swept, exporter.signer, staging, exporter.kept_in, carol)
    assert not final.exists()
    assert await events_for(export_db, swept.id) == []
