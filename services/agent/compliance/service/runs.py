"""Compliance use cases: run the checks, store every result with its evidence and audit it,
open an incident per failing check; read runs and results back."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from runtime.canonical import canonical_json, sha256_hex
from runtime.db import Database
from runtime.errors import InvalidArgument
from runtime.outbox import automation
from services.agent.compliance.domain.checks import (
    CHECKS,
    ERROR,
    Check,
    Limits,
    Outcome,
    PeerError,
    Sources,
)
from services.agent.compliance.domain.results import CheckResult, Run
from services.agent.compliance.repository import runs as repository
from services.agent.compliance.service import events
from services.agent.compliance.service.intake import raise_incident

Clock = Callable[[], datetime]
NAME = "agent.compliance"
VERSION = sha256_hex(canonical_json([[c.id, c.version] for c in CHECKS]))[:12]
DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Requester:
    """Who a run is for: a person's subject and audit actor, or the scheduler's."""

    subject: str
    actor: dict[str, Any]
    trigger: str = "on_demand"


SCHEDULER = Requester(NAME, automation(NAME, VERSION), "schedule/default")


def select_checks(check_ids: Sequence[str]) -> tuple[Check, ...]:
    known = {c.id: c for c in CHECKS}
    if unknown := [i for i in check_ids if i not in known]:
        raise InvalidArgument(f"unknown check(s) {unknown}; known: {', '.join(known)}")
    return tuple(known[i] for i in check_ids) if check_ids else CHECKS


async def evaluate(check: Check, sources: Sources, limits: Limits, now: datetime) -> Outcome:
    """A peer that refuses or is down makes the check ERROR, naming why; it never passes."""
    try:
        return await check.evaluate(sources, limits, now)
    except PeerError as exc:
        return Outcome(ERROR, 0, (), str(exc))


async def run_checks(
    db: Database,
    sources: Sources,
    *,
    requester: Requester,
    clock: Clock,
    limits: Limits = DEFAULT_LIMITS,
    check_ids: Sequence[str] = (),
) -> Run:
    checks = select_checks(check_ids)
    run_id, started = str(uuid.uuid4()), clock()
    results = []
    for check in checks:
        outcome = await evaluate(check, sources, limits, clock())
        results.append(_result(run_id, check, outcome, clock()))
    results.sort(key=lambda r: r.check_id)  # the order they are read back in
    run = Run(run_id, requester.trigger, requester.subject, started, clock(), tuple(results))
    async with db.transaction() as session:
        await repository.add_run(session, run)
        await events.run_recorded(session, requester.actor, run)
    return await _raise_incidents(db, run, requester, clock)


def _result(run_id: str, check: Check, outcome: Outcome, at: datetime) -> CheckResult:
    return CheckResult(
        id=str(uuid.uuid4()),
        run_id=run_id,
        check_id=check.id,
        check_version=check.version,
        description=check.description,
        status=outcome.status,
        examined=outcome.examined,
        evidence=outcome.findings,
        detail=outcome.detail,
        checked_at=at,
    )


async def _raise_incidents(db: Database, run: Run, requester: Requester, clock: Clock) -> Run:
    """After the run committed: an incident lost to a crash here is raised again by the next
    run, which finds the same violation."""
    raised = []
    for result in run.results:
        if result.failed:
            incident_id = await raise_incident(db, result, clock())
            async with db.transaction() as session:
                await repository.link_incident(session, result.id, incident_id)
                await events.incident_raised(session, requester.actor, result.id, incident_id)
            result = replace(result, incident_id=incident_id)
        raised.append(result)
    return replace(run, results=tuple(raised))
