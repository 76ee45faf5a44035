"""A failing check becomes an incident through the agent's own intake use case, so it is
normalised, de-duplicated (one subject per check) and audited like any desk's incident."""

from __future__ import annotations

from datetime import datetime

from runtime.auth import SERVICE, Principal
from runtime.db import Database
from services.agent.compliance.domain.results import CheckResult
from services.agent.triage import NewIncident, create_incident

# A kind the shipped rule set (services/agent/triage/rules/baseline.json) declares, with a rule;
# later versions cannot withdraw it (a version only adds kinds).
KIND = "compliance_violation"
SOURCE = "agent.compliance"
CALLER = Principal("agent.compliance", frozenset({SERVICE}), "", "", owner="agent")
MAX_REFS = 20


async def raise_incident(db: Database, result: CheckResult, observed_at: datetime) -> str:
    """Opens an incident for a failing result; returns its id."""
    refs = ", ".join(f.ref for f in result.evidence[:MAX_REFS])
    more = len(result.evidence) - MAX_REFS
    summary = (
        f"Compliance check {result.check_id} v{result.check_version} failed: {result.detail}. "
        f"Evidence: {refs}{f' and {more} more' if more > 0 else ''}. Run {result.run_id}."
    )
    new = NewIncident(
        source=SOURCE,
        kind=KIND,
        desk="",
        subject=f"compliance/{result.check_id}",
        summary=summary[:2000],
        metrics={"violations": float(len(result.evidence)), "examined": float(result.examined)},
        observed_at=observed_at,
    )
    incident = await create_incident(db, new=new, caller=CALLER, clock=lambda: observed_at)
    return incident.id
