"""Schedules: validation, time zones, the audit trail of changes, and what a run exports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, NotFound
from services.export.domain.schedules import ScheduledRun, ScheduleSpec
from services.export.service.schedules.editing import delete_schedule, list_schedules, put_schedule
from services.export.service.schedules.runs import run_due_schedules
from tests.export.test_delivery_support import T0, events_for

HOURLY = ScheduleSpec(name="hourly-actions", cron="0 * * * *", kind="actions_report")


@pytest.fixture
def carol(principal_for: Callable[..., Principal]) -> Principal:
    return principal_for("carol", "compliance")


class Runs:
    """A stand-in for export creation that remembers each run; `fail` makes it raise."""

    def __init__(self) -> None:
        self.runs: list[ScheduledRun] = []
        self.fail: Exception | None = None

    async def __call__(self, run: ScheduledRun) -> None:
        self.runs.append(run)
        if self.fail is not None:
            raise self.fail


async def test_the_cron_expression_is_read_in_the_schedules_time_zone(
    export_db: Database, carol: Principal
) -> None:
    summer = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    spec = ScheduleSpec(
        name="london-morning", cron="30 8 * * *", time_zone="Europe/London", kind="actions_report"
    )

    schedule = await put_schedule(export_db, spec, actor=carol, now=summer, destinations=())

    assert schedule.next_run_at == datetime(2026, 7, 2, 7, 30, tzinfo=UTC)  # 08:30 BST
    assert (schedule.created_by, schedule.enabled, schedule.last_run_at) == ("carol", True, None)
    [listed] = [s for s in await list_schedules(export_db) if s.id == schedule.id]
    assert listed == schedule


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cron": "0 * * *"}, "five fields"),
        ({"cron": "61 * * * *"}, "five fields"),
        ({"cron": "0 0 * * * *"}, "five fields"),
        ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"kind": "everything"}, "kind must be one of"),
        ({"format": "xlsx"}, "format must be one of"),
        ({"parameters": {"colour": "red"}}, "unknown parameters"),
        ({"destination": "moon"}, "unknown destination"),
        ({"name": ""}, "name must be"),
    ],
)
async def test_a_bad_schedule_is_refused(
    export_db: Database, carol: Principal, change: dict[str, object], message: str
) -> None:
    spec = ScheduleSpec(**{**HOURLY.__dict__, **change})

    with pytest.raises(InvalidArgument, match=message):
        await put_schedule(export_db, spec, actor=carol, now=T0, destinations=("vault",))


async def test_schedules_are_created_replaced_and_deleted_with_an_audit_trail(
    export_db: Database, carol: Principal
) -> None:
    made = await put_schedule(export_db, HOURLY, actor=carol, now=T0, destinations=())
    with pytest.raises(Conflict, match="exists already"):
        await put_schedule(export_db, HOURLY, actor=carol, now=T0, destinations=())
    renamed = ScheduleSpec(**{**HOURLY.__dict__, "id": made.id, "name": "renamed"})

    replaced = await put_schedule(
        export_db, renamed, actor=carol, now=T0 + timedelta(hours=5), destinations=()
    )
    await delete_schedule(export_db, made.id, actor=carol)

    assert replaced.name == "renamed"
    assert replaced.next_run_at == made.next_run_at  # same timing: a due slot stays due
    assert made.id not in [s.id for s in await list_schedules(export_db)]
    actions = [e["action"] for e in await events_for(export_db, f"schedule/{made.id}")]
    assert actions == [
        "export.schedule.created",
        "export.schedule.updated",
        "export.schedule.deleted",
    ]
    with pytest.raises(NotFound):
        await delete_schedule(export_db, made.id, actor=carol)
    with pytest.raises(NotFound):
        await put_schedule(export_db, renamed, actor=carol, now=T0, destinations=())


async def test_after_downtime_the_missed_runs_are_caught_up_once(
    export_db: Database, carol: Principal
) -> None:
    schedule = await put_schedule(export_db, HOURLY, actor=carol, now=T0, destinations=())
    runs = Runs()
    back = T0 + timedelta(hours=5, minutes=30)  # five slots missed

    assert await run_due_schedules(export_db, runs, back) == 1
    assert await run_due_schedules(export_db, runs, back) == 0

    [run] = runs.runs
    assert (run.since, run.until) == (T0, T0 + timedelta(hours=1))
    assert run.client_key == f"schedule:{schedule.id}:2026-03-02T10:00:00+00:00"
    assert run.requested_by == "schedule/hourly-actions"
    [after] = [s for s in await list_schedules(export_db) if s.id == schedule.id]
    assert after.next_run_at == T0 + timedelta(hours=6)
    assert after.last_run_at == T0 + timedelta(hours=1)

    assert await run_due_schedules(export_db, runs, T0 + timedelta(hours=6)) == 1
    # Windows are contiguous: the run after the catch-up exports from where it stopped.
    assert (runs.runs[1].since, runs.runs[1].until) == (run.until, T0 + timedelta(hours=6))


async def test_a_run_that_broke_is_retried_for_the_same_slot_and_a_refused_one_is_skipped(
    export_db: Database, carol: Principal
) -> None:
    schedule = await put_schedule(export_db, HOURLY, actor=carol, now=T0, destinations=())
    runs = Runs()
    slot = T0 + timedelta(hours=1)
    runs.fail = RuntimeError("database hiccup")

    assert await run_due_schedules(export_db, runs, slot) == 1
    assert await run_due_schedules(export_db, runs, slot) == 0  # backing off
    assert await run_due_schedules(export_db, runs, slot + timedelta(minutes=1)) == 1
    runs.fail = InvalidArgument("no destination named 'gone'")
    assert await run_due_schedules(export_db, runs, slot + timedelta(minutes=5)) == 1

    assert {r.client_key for r in runs.runs} == {runs.runs[0].client_key}
    [after] = [s for s in await list_schedules(export_db) if s.id == schedule.id]
    assert after.next_run_at == T0 + timedelta(hours=2)
    assert after.last_error == "InvalidArgument: no destination named 'gone'"


async def test_a_disabled_schedule_does_not_run(export_db: Database, carol: Principal) -> None:
    spec = ScheduleSpec(**{**HOURLY.__dict__, "enabled": False})
    await put_schedule(export_db, spec, actor=carol, now=T0, destinations=())
    runs = Runs()

    assert await run_due_schedules(export_db, runs, T0 + timedelta(days=2)) == 0
