"""Stored compliance runs and their results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.agent.compliance.domain.checks import FAIL, Finding


@dataclass(frozen=True)
class CheckResult:
    id: str
    run_id: str
    check_id: str
    check_version: int
    description: str
    status: str
    examined: int
    evidence: tuple[Finding, ...]
    detail: str
    checked_at: datetime
    incident_id: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == FAIL


@dataclass(frozen=True)
class Run:
    id: str
    trigger: str
    requested_by: str
    started_at: datetime
    finished_at: datetime
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.status == "pass" for r in self.results)
