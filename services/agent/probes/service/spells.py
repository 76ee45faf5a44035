"""A failing spell is one incident: the first failing run opens it through the agent's intake
(normalised, fingerprinted, correlated and audited like any desk's report), later failing runs
fold onto it through the explicit link on the probe row (not the intake's time window, which a
slow interval would outlast), and the first passing run resolves it, so the next failure opens a
new one. All inside the caller's transaction, with the run that caused each step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from services.agent.probes.domain.probes import Observation, Probe
from services.agent.probes.domain.reports import report_of, value_text
from services.agent.probes.service.events import caller
from services.agent.triage import Windows, accept, active_kinds, fold_linked, open_one, resolve

OPENED, UPDATED, RECOVERED = "opened", "updated", "recovered"


@dataclass(frozen=True)
class Step:
    incident_id: str  # the incident the run concerned ("" when none)
    step: str  # OPENED, UPDATED, RECOVERED or ""
    open_incident_id: str  # the probe's open incident after the run


async def apply(
    session: AsyncSession,
    ran: Probe,
    open_incident_id: str,
    seen: Observation,
    now: datetime,
    windows: Windows,
) -> Step:
    """`ran` is the version that ran (its definition fills the incident), `open_incident_id`
    the link on the locked current row."""
    who = caller(ran.spec, ran.version)
    if seen.ok:
        if not open_incident_id:
            return Step("", "", "")
        await _resolve(session, open_incident_id, who, ran.version, seen, now)
        return Step(open_incident_id, RECOVERED, "")
    if open_incident_id and await _fold(session, open_incident_id, who, seen, now):
        return Step(open_incident_id, UPDATED, open_incident_id)
    incident_id = await _open(session, ran, who, seen, now, windows)
    return Step(incident_id, OPENED, incident_id)


async def _open(
    session: AsyncSession,
    ran: Probe,
    who: Principal,
    seen: Observation,
    now: datetime,
    windows: Windows,
) -> str:
    kinds = await active_kinds(session)  # kinds are never withdrawn: a defined probe's holds
    [report] = accept([report_of(ran.spec, ran.version, seen, now)], now, kinds)
    incident = await open_one(
        session, report, caller=who, now=now, windows=windows, requested_by=ran.requester
    )
    return incident.id


async def _fold(
    session: AsyncSession, incident_id: str, who: Principal, seen: Observation, now: datetime
) -> bool:
    """False when the linked incident is no longer open (resolved by hand): a new one opens."""
    return await fold_linked(session, incident_id, caller=who, now=now, details=_seen(seen))


async def _resolve(
    session: AsyncSession,
    incident_id: str,
    who: Principal,
    version: int,
    seen: Observation,
    now: datetime,
) -> None:
    value = value_text(seen)
    resolution = f"recovered: {who.subject} passed at {now.isoformat()} (observed {value})"
    details = {"version": version, **_seen(seen)}
    await resolve(session, incident_id, caller=who, resolution=resolution, now=now, details=details)


def _seen(seen: Observation) -> dict[str, Any]:
    return {"status": seen.status, "value": seen.value, "error": seen.error}
