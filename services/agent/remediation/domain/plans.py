"""Plain data of remediation: playbooks, what a plan is computed from, and what it contains.
Imports no grpc and no SQLAlchemy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

RISKS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


@dataclass(frozen=True)
class DryRunSpec:
    """Which prediction model a step uses, and the figures it assumes when the incident does
    not report them (for example the secondary feed's usual latency)."""

    model: str
    assumptions: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    id: str
    action: str
    risk: str
    parameters: Mapping[str, Any]
    rationale: str
    dry_run: DryRunSpec
    # Empty: any incident kind / any severity.
    kinds: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Playbook:
    name: str
    version: str
    digest: str  # first 12 hex of the SHA-256 of the playbook file's bytes
    categories: tuple[str, ...]
    description: str
    steps: tuple[Step, ...]
    # Incident kinds it covers when no playbook names the decision's category.
    kinds: tuple[str, ...] = ()

    @property
    def logic_version(self) -> str:
        """An edited file without a version bump still has a different logic version."""
        return f"{self.version}+{self.digest}"


@dataclass(frozen=True)
class PlanContext:
    """What a playbook sees of a decision: its category and severity, and the incident snapshot
    the triage saw (string fields such as kind, subject, desk, source; numeric metrics)."""

    decision_id: str
    incident_id: str
    category: str
    severity: str
    fields: Mapping[str, str]
    metrics: Mapping[str, float]
    requested_by: str = ""

    @property
    def kind(self) -> str:
        return self.fields.get("kind", "")

    @property
    def subject(self) -> str:
        return self.fields.get("subject", "")


@dataclass(frozen=True)
class Effect:
    metric: str
    before: float
    after: float
    unit: str = ""


@dataclass(frozen=True)
class DryRunResult:
    model: str
    summary: str
    effects: tuple[Effect, ...] = ()
    impacts: tuple[str, ...] = ()
    assumptions: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedStep:
    step_id: str
    kind: str
    risk: str
    parameters: Mapping[str, Any]
    rationale: str
    dry_run: DryRunResult
    source_ref: str
    action_id: str | None = None
    proposal_error: str = ""


@dataclass(frozen=True)
class Plan:
    decision_id: str
    incident_id: str
    category: str
    severity: str
    playbook_name: str
    playbook_version: str
    steps: tuple[PlannedStep, ...]
    planned_by: str
    planned_at: datetime


def dry_run_dict(result: DryRunResult) -> dict[str, Any]:
    """The dry run as stored, sent to ops in the action's parameters and shown to approvers."""
    return {
        "model": result.model,
        "summary": result.summary,
        "effects": [asdict(effect) for effect in result.effects],
        "impacts": list(result.impacts),
        "assumptions": dict(result.assumptions),
    }
