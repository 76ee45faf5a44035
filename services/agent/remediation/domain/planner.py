"""A playbook applied to a decision: the steps that apply, their parameters rendered from the
incident and the decision, and each step's dry-run prediction. Pure and deterministic."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from services.agent.remediation.domain.dry_run import predict
from services.agent.remediation.domain.plans import PlanContext, PlannedStep, Playbook, Step

# "{subject}", "{desk}", "{decision_id}", "{metrics.latency_ms}", ...
PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[A-Za-z0-9_]+)?)\}")


def source_ref(decision_id: str, step_id: str) -> str:
    """The proposal's idempotency key at ops."""
    return f"playbook/{decision_id}/{step_id}"


def plan_steps(playbook: Playbook, context: PlanContext) -> tuple[PlannedStep, ...]:
    return tuple(_planned(step, context) for step in playbook.steps if applies(step, context))


def applies(step: Step, context: PlanContext) -> bool:
    kind_ok = not step.kinds or context.kind in step.kinds
    return kind_ok and (not step.severities or context.severity in step.severities)


def _planned(step: Step, context: PlanContext) -> PlannedStep:
    parameters = {name: render(value, context) for name, value in step.parameters.items()}
    return PlannedStep(
        step_id=step.id,
        kind=step.action,
        risk=step.risk,
        parameters=parameters,
        rationale=str(render(step.rationale, context)),
        dry_run=predict(step.dry_run.model, parameters, context, step.dry_run.assumptions),
        source_ref=source_ref(context.decision_id, step.id),
    )


def render(template: Any, context: PlanContext) -> Any:
    """A string that is exactly one metric placeholder becomes the number; any other string has
    its placeholders filled in (an unknown one is left as written, so it shows in review)."""
    if isinstance(template, list):
        return [render(item, context) for item in template]
    if isinstance(template, dict):
        return {key: render(value, context) for key, value in template.items()}
    if not isinstance(template, str):
        return template
    whole = PLACEHOLDER.fullmatch(template)
    values = _values(context)
    if whole and whole.group(1).startswith("metrics.") and whole.group(1) in values:
        return values[whole.group(1)]
    return PLACEHOLDER.sub(lambda m: _text(values.get(m.group(1)), m.group(0)), template)


def _values(context: PlanContext) -> Mapping[str, Any]:
    values: dict[str, Any] = {f"metrics.{k}": v for k, v in context.metrics.items()}
    values.update(context.fields)
    values.update(
        decision_id=context.decision_id,
        incident_id=context.incident_id,
        category=context.category,
        severity=context.severity,
    )
    return values


def _text(value: Any, fallback: str) -> str:
    if value is None:
        return fallback
    return f"{value:.6g}" if isinstance(value, float) else str(value)
