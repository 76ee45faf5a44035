"""People's verdicts on triage decisions: what a verdict may say, the feedback row it becomes,
and the counts triage metrics are made of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from runtime.errors import InvalidArgument
from services.agent.triage.domain.decisions import SEVERITIES, Decision

VERDICTS = {"agree": "agent.triage.confirmed", "override": "agent.triage.overridden"}
MAX_REASON = 2000


@dataclass(frozen=True)
class Verdict:
    verdict: str
    corrected_severity: str = ""
    corrected_category: str = ""
    reason: str = ""


@dataclass(frozen=True)
class TriageMetrics:
    decisions: int
    by_severity: dict[str, int]
    by_category: dict[str, int]
    by_logic_version: list[VersionCounts]


@dataclass(frozen=True)
class Feedback:
    id: str
    decision_id: str
    verdict: str
    corrected_severity: str
    corrected_category: str
    reason: str
    logic_version: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class VersionCounts:
    logic_version: str
    decisions: int
    feedback: int
    agreements: int
    overrides: int

    @property
    def override_rate(self) -> float:
        return self.overrides / self.feedback if self.feedback else 0.0


def check(verdict: Verdict, decision: Decision) -> None:
    if verdict.verdict not in VERDICTS:
        raise InvalidArgument("verdict must be 'agree' or 'override'")
    if len(verdict.reason) > MAX_REASON:
        raise InvalidArgument(f"reason is longer than {MAX_REASON} characters")
    if verdict.verdict == "agree":
        if verdict.corrected_severity or verdict.corrected_category:
            raise InvalidArgument("an agreement carries no corrected severity or category")
        return
    if not verdict.reason.strip():
        raise InvalidArgument("an override needs a reason")
    if verdict.corrected_severity and verdict.corrected_severity not in SEVERITIES:
        raise InvalidArgument(f"corrected_severity must be one of {', '.join(SEVERITIES)}")
    outcome = decision.outcome
    if (verdict.corrected_severity or outcome.severity) == outcome.severity and (
        verdict.corrected_category or outcome.category
    ) == outcome.category:
        raise InvalidArgument("an override must correct the severity or the category")
