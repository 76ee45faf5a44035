"""The audit events of probes, written to the agent outbox in the caller's transaction. Changes
name the admin; automatic steps name the probe and the version that ran ("probe:<name>@v<n>"),
and, as requested_by, the admin who last changed that version."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import SERVICE, Principal
from runtime.canonical import canonical_json, sha256_hex
from runtime.outbox import automation, person
from services.agent.probes.domain.documents import document
from services.agent.probes.domain.probes import Probe, ProbeSpec, RunRecord, identity
from services.agent.triage import record as _record


def caller(spec: ProbeSpec, version: int) -> Principal:
    """Who a probe's incident is created by, through the agent's intake."""
    return Principal(
        identity(spec.name, version), frozenset({SERVICE}), spec.incident.desk, owner="agent"
    )


def actor(name: str, version: int) -> dict[str, Any]:
    return automation(identity(name, version), f"v{version}")


async def changed(session: AsyncSession, who: Principal, probe: Probe, change: str) -> None:
    definition = document(probe.spec)
    payload = {
        "probe": probe.spec.name,
        "version": probe.version,
        "change": change,
        "enabled": probe.enabled,
        "definition": definition,
        "definition_sha256": sha256_hex(canonical_json(definition)),
    }
    await _record(session, person(who), f"agent.probe.{change}", f"probe/{probe.id}", payload)


async def incident_step(session: AsyncSession, run: RunRecord, requested_by: str) -> None:
    """One event per automatic step: the incident opened, updated while still failing, or
    recovered, with the run that caused it and whom the probe runs for."""
    payload = {
        "probe": run.probe_name,
        "probe_id": run.probe_id,
        "version": run.version,
        "requested_by": requested_by,
        "run_id": run.id,
        "status": run.status,
        "value": run.value,
        "error": run.error,
    }
    await _record(
        session,
        actor(run.probe_name, run.version),
        f"agent.probe.incident_{run.incident_step}",
        f"incident/{run.incident_id}",
        payload,
    )
