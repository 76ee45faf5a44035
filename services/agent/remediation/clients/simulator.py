"""The built-in simulator for demos: no desk system is contacted. Outcomes are deterministic per
action kind: EXECUTED unless the kind is configured to fail or to lose its reply."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from services.agent.remediation.domain.executions import (
    EXECUTED,
    FAILED,
    OUTCOME_UNKNOWN,
    Attempt,
    ExecutionRequest,
    ExecutionResult,
)


@dataclass(frozen=True)
class SimulatorExecutor:
    label: str = "demo"
    fail_kinds: frozenset[str] = frozenset()
    unknown_kinds: frozenset[str] = frozenset()
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def name(self) -> str:
        return f"simulator:{self.label}"

    @property
    def budget_s(self) -> float:
        return 1.0

    async def execute(self, request: ExecutionRequest) -> ExecutionResult:
        ref = "sim-" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:12]
        attempt = (Attempt(1, self.clock(), 200, "", 0.0),)
        if request.kind in self.fail_kinds:
            return ExecutionResult(FAILED, f"{ref}: simulated failure of {request.kind}", attempt)
        if request.kind in self.unknown_kinds:
            lost = (Attempt(1, self.clock(), 0, "simulated lost reply", 0.0),)
            return ExecutionResult(OUTCOME_UNKNOWN, f"{ref}: simulated lost reply", lost)
        return ExecutionResult(EXECUTED, f"{ref}: simulated {_what(request)}", attempt)


def _what(request: ExecutionRequest) -> str:
    dry_run = request.parameters.get("dry_run")
    if isinstance(dry_run, dict) and isinstance(dry_run.get("summary"), str):
        return f"{request.kind} ({dry_run['summary']})"
    return request.kind
