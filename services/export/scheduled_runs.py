"""A schedule's run becomes an export: the window [since, until) of the run, requested by
"schedule/<name>" under the export service's own identity (peers see a service, the audit log
names the schedule), idempotent on the run's client key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from runtime.auth import SERVICE, Principal
from services.export.domain import Export
from services.export.requests import ExportRequest
from services.export.schedules import ScheduledRun
from services.export.service import Exporter, create_export


def scheduled_creator(
    exporter: Exporter, token: Callable[[], str]
) -> Callable[[ScheduledRun], Awaitable[Export]]:
    async def create(run: ScheduledRun) -> Export:
        schedule = run.schedule
        caller = Principal(run.requested_by, frozenset({SERVICE}), token=token())
        request = ExportRequest(
            kind=schedule.kind,
            format=schedule.format,
            since=run.since,
            until=run.until,
            destination=schedule.destination,
            client_key=run.client_key,
            parameters=dict(schedule.parameters),
        )
        return await create_export(exporter, request, caller)

    return create
