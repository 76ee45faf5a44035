"""Probe use cases: create or change a definition (a new kept version each time, audited),
disable it, and read probes, versions and runs back. Changes are for admins; the RBAC table
enforces that and the guard audits every refusal."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from runtime import paging
from runtime.auth import Principal
from runtime.db import Database
from runtime.egress import DEFAULT, EgressPolicy
from runtime.errors import InvalidArgument, NotFound
from services.agent.probes.domain.probes import Probe, ProbeSpec, RunRecord, Version
from services.agent.probes.domain.reports import check_report
from services.agent.probes.domain.validation import validate
from services.agent.probes.repository import probes as store
from services.agent.probes.repository import runs as run_store
from services.agent.probes.service import events
from services.agent.triage import active_kinds

Clock = Callable[[], datetime]


async def put_probe(
    db: Database,
    spec: ProbeSpec,
    *,
    probe_id: str,
    caller: Principal,
    clock: Clock,
    egress: EgressPolicy = DEFAULT,
) -> Probe:
    """Creates the probe named spec.name, or changes it (by id when given: a probe is never
    renamed). An unchanged, enabled definition stores nothing. A new or changed probe is due
    at once."""
    now = clock()
    async with db.transaction() as session:
        # Checked in the transaction that stores it: the kinds are the active rule set's.
        kinds = await active_kinds(session)
        validate(spec, kinds, egress)
        check_report(spec, 1, now, kinds)
        current = await _current(session, spec.name, probe_id)
        if current is not None and current.enabled and current.spec == spec:
            return current
        if current is None:
            probe = Probe(str(uuid.uuid4()), 1, True, spec, caller.subject, now, now)
            change = "created"
        else:
            probe = replace(
                current,
                version=current.version + 1,
                enabled=True,
                spec=spec,
                changed_by=caller.subject,
                changed_at=now,
                next_run_at=now,
            )
            change = "changed"
        await store.save(session, probe, change)
        await events.changed(session, caller, probe, change)
        return probe


async def _current(session: AsyncSession, name: str, probe_id: str) -> Probe | None:
    if not probe_id:
        return await store.by_name(session, name, lock=True)
    current = await store.by_id(session, probe_id, lock=True)
    if current is None:
        raise NotFound(f"no probe {probe_id!r}")
    if current.spec.name != name:
        raise InvalidArgument(f"probe {probe_id} is named {current.spec.name!r}; names are fixed")
    return current


async def disable_probe(db: Database, *, probe_id: str, caller: Principal, clock: Clock) -> Probe:
    """A new version, disabled: no further runs. An open incident stays open for people to
    resolve. Disabling a disabled probe stores nothing."""
    async with db.transaction() as session:
        current = await store.by_id(session, probe_id, lock=True)
        if current is None:
            raise NotFound(f"no probe {probe_id!r}")
        if not current.enabled:
            return current
        probe = replace(
            current,
            version=current.version + 1,
            enabled=False,
            changed_by=caller.subject,
            changed_at=clock(),
        )
        await store.save(session, probe, "disabled")
        await events.changed(session, caller, probe, "disabled")
        return probe


async def get_probe(db: Database, *, probe_id: str) -> tuple[Probe, list[Version]]:
    async with db.transaction() as session:
        probe = await store.by_id(session, probe_id)
        if probe is None:
            raise NotFound(f"no probe {probe_id!r}")
        return probe, await store.versions(session, probe.id)


async def list_probes(db: Database, *, limit: int) -> list[Probe]:
    async with db.transaction() as session:
        return await store.list_all(session, paging.page_size(limit, "limit"))


async def list_runs(db: Database, *, probe_id: str, limit: int) -> list[RunRecord]:
    async with db.transaction() as session:
        probe = await store.by_id(session, probe_id)
        if probe is None:
            raise NotFound(f"no probe {probe_id!r}")
        return await run_store.runs(session, probe, paging.page_size(limit, "limit"))
