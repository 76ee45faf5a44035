"""Audit events of the execution worker, written in the transaction of the change they describe.
Actor: the executor automation, so the audit log tells a person's decision from a machine's."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.outbox import automation
from services.agent.remediation.domain.executions import FAILED, ExecutionResult
from services.agent.triage import record

WORKER_VERSION = "1"


async def recorded(
    session: AsyncSession,
    phase: str,
    execution_id: str,
    action_id: str,
    executor: str,
    result: ExecutionResult | None = None,
) -> None:
    """phase: "started", "finished" or "reconciled" (declared OUTCOME_UNKNOWN after a crash)."""
    payload: dict[str, object] = {"execution_id": execution_id, "executor": executor}
    if result is not None:
        payload.update(outcome=result.outcome, detail=result.detail, attempts=len(result.attempts))
    await record(
        session,
        automation(f"agent-executor/{executor}", WORKER_VERSION),
        f"agent.execution.{phase}",
        f"action/{action_id}",
        payload,
        outcome="failure" if result is not None and result.outcome == FAILED else "success",
    )
