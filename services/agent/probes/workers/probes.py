"""The probe worker in the agent process. Each pass claims due probes (FOR UPDATE SKIP LOCKED,
next run moved on in the claiming transaction, so across any number of replicas each due run
happens once), runs their HTTP requests concurrently outside any transaction, then records each
result with its incident step and audit events in one transaction per run. A crash between claim
and record loses that one run, never the schedule: the row already holds the next due time."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from runtime.db import Database
from runtime.egress import DEFAULT, EgressPolicy
from services.agent.probes.clients.desks import observe
from services.agent.probes.domain.probes import Observation, Probe, RunRecord
from services.agent.probes.repository import probes as store
from services.agent.probes.repository import runs as run_store
from services.agent.probes.service import events, spells
from services.agent.triage import Windows

log = logging.getLogger(__name__)
OnOpened = Callable[[str, Probe], Awaitable[None]]


async def _nothing(incident_id: str, probe: Probe) -> None:
    return None


@dataclass(frozen=True)
class WorkerOptions:
    poll_s: float = 1.0
    batch: int = 20  # probes claimed per pass; their requests run concurrently
    keep_runs: int = 500  # run history kept per probe
    windows: Windows = field(default_factory=Windows)
    egress: EgressPolicy = DEFAULT  # checked on every request's resolved addresses


DEFAULT_OPTIONS = WorkerOptions()


class ProbeWorker:
    def __init__(
        self,
        db: Database,
        options: WorkerOptions = DEFAULT_OPTIONS,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        wake: Callable[[], None] = lambda: None,
        on_opened: OnOpened = _nothing,
    ) -> None:
        self._db, self._options, self._clock = db, options, clock
        self._wake = wake  # the outbox relay, after a pass that wrote events
        self._on_opened = on_opened  # triage of a newly opened incident

    async def run(self) -> None:
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if await self.run_once(client):
                        self._wake()
                except Exception:  # a broken pass must not stop the schedule
                    log.exception("probe pass failed")
                await asyncio.sleep(self._options.poll_s)

    async def run_once(self, client: httpx.AsyncClient) -> list[RunRecord]:
        """One pass; returns the runs it recorded."""
        now = self._clock()
        async with self._db.transaction() as session:
            claimed = await store.claim_due(session, now, self._options.batch)
        egress = self._options.egress
        seen = await asyncio.gather(*(observe(client, p.spec, now, egress) for p in claimed))
        recorded = []
        for probe, observation in zip(claimed, seen, strict=True):
            try:
                run = await self.record(probe, observation, now)
            except Exception:  # one probe's failure to record must not drop the others'
                log.exception("recording a run of probe %s failed", probe.id)
                continue
            if run is not None:
                recorded.append(run)
                if run.incident_step == spells.OPENED:
                    await self._opened(run, probe)
        return recorded

    async def record(self, ran: Probe, seen: Observation, at: datetime) -> RunRecord | None:
        async with self._db.transaction() as session:
            current = await store.by_id(session, ran.id, lock=True)  # serialises the link
            if current is None:
                return None
            step = await spells.apply(
                session, ran, current.open_incident_id, seen, at, self._options.windows
            )
            run = RunRecord(
                id=str(uuid.uuid4()),
                probe_id=ran.id,
                probe_name=ran.spec.name,
                version=ran.version,
                started_at=at,
                status=seen.status,
                value=seen.value,
                error=seen.error,
                duration_ms=seen.duration_ms,
                incident_id=step.incident_id,
                incident_step=step.step,
            )
            await run_store.add_run(session, run, step.open_incident_id, self._options.keep_runs)
            if step.step:
                await events.incident_step(session, run, ran.requester)
        return run

    async def _opened(self, run: RunRecord, probe: Probe) -> None:
        try:
            await self._on_opened(run.incident_id, probe)
        except Exception:  # the incident stands; a person can triage it
            log.exception("triage of incident %s from probe %s failed", run.incident_id, probe.id)
