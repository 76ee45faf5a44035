"""The audit events of compliance runs, written to the agent's outbox in the caller's
transaction. Failing and errored checks are events of their own, with their evidence."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.compliance.domain.results import CheckResult, Run
from services.agent.compliance.repository.runs import evidence_json
from services.agent.triage import record as _record

MAX_EVIDENCE_IN_EVENT = 50


async def run_recorded(session: AsyncSession, actor: dict[str, Any], run: Run) -> None:
    summary = {
        "trigger": run.trigger,
        "requested_by": run.requested_by,
        "ok": run.ok,
        "results": {r.check_id: r.status for r in run.results},
    }
    await _record(session, actor, "agent.compliance.run", f"compliance_run/{run.id}", summary)
    for result in run.results:
        if result.status != "pass":
            await _record(session, actor, *_result_event(result), outcome="failure")


def _result_event(result: CheckResult) -> tuple[str, str, dict[str, Any]]:
    payload = {
        "run_id": result.run_id,
        "check_id": result.check_id,
        "check_version": result.check_version,
        "detail": result.detail,
        "violations": len(result.evidence),
        "evidence": [evidence_json(f) for f in result.evidence[:MAX_EVIDENCE_IN_EVENT]],
    }
    action = "agent.compliance.violation" if result.failed else "agent.compliance.check_errored"
    return action, f"compliance_result/{result.id}", payload


async def incident_raised(
    session: AsyncSession, actor: dict[str, Any], result_id: str, incident_id: str
) -> None:
    target = f"compliance_result/{result_id}"
    payload = {"incident_id": incident_id}
    await _record(session, actor, "agent.compliance.incident_raised", target, payload)
