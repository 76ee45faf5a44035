"""What every executor takes and returns. An executor never raises for a desk system's
answer: every ending is an ExecutionResult, with the attempts it took."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

EXECUTED, FAILED, OUTCOME_UNKNOWN = "EXECUTED", "FAILED", "OUTCOME_UNKNOWN"


@dataclass(frozen=True)
class ExecutionRequest:
    action_id: str
    kind: str
    parameters: Mapping[str, Any]
    # The same for every attempt and every replica: the desk system de-duplicates on it.
    idempotency_key: str


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime
    status_code: int  # 0 when no response came back
    error: str
    duration_ms: float


@dataclass(frozen=True)
class ExecutionResult:
    outcome: str  # EXECUTED, FAILED or OUTCOME_UNKNOWN
    detail: str
    attempts: tuple[Attempt, ...] = ()


class Executor(Protocol):
    @property
    def name(self) -> str:
        """For example "webhook:desk-oms"; recorded at ops as the action's executor."""
        ...

    @property
    def budget_s(self) -> float:
        """The longest one execution can take (every attempt, timeout and backoff included)."""
        ...

    async def execute(self, request: ExecutionRequest) -> ExecutionResult: ...


def idempotency_key(action_id: str) -> str:
    """One key per ops action: ops lets an action start executing only once."""
    return f"tradeops-action-{action_id}"


FINAL = {"EXECUTED": "executed", "FAILED": "failed", "OUTCOME_UNKNOWN": "outcome_unknown"}
OUTCOMES = {state: outcome for outcome, state in FINAL.items()}


@dataclass(frozen=True)
class ExecutionRecord:
    id: str
    action_id: str
    kind: str
    executor: str
    state: str
    detail: str
    idempotency_key: str
    attempts: tuple[Attempt, ...]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    reported_at: datetime | None

    @property
    def outcome(self) -> str | None:
        """EXECUTED, FAILED or OUTCOME_UNKNOWN once the executor finished."""
        return OUTCOMES.get(self.state)
