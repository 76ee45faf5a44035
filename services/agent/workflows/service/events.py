"""The audit events of trigger rules and firings, written to the agent's outbox in the caller's
transaction. A firing's events are the rule version's own ("trigger:<name>@v<version>") and
name the causing event, so the log answers "which rule did this, and why"."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.triage import record as _record
from services.agent.workflows.domain.rules import Firing, Rule, rule_actor

CHANGED, FIRED = "agent.trigger.changed", "agent.trigger.fired"
ATTEMPT_FAILED, FAILED = "agent.trigger.attempt_failed", "agent.trigger.failed"


async def rule_changed(session: AsyncSession, actor: dict[str, Any], rule: Rule) -> None:
    payload = {
        "name": rule.name,
        "version": rule.version,
        "enabled": rule.enabled,
        "match": {
            "action": rule.action,
            "conditions": {k: list(v) for k, v in rule.conditions.items()},
        },
        "step": {"kind": rule.step, "parameters": dict(rule.parameters)},
        "max_attempts": rule.max_attempts,
        "reason": rule.reason,
    }
    await _record(session, actor, CHANGED, f"trigger/{rule.id}", payload)


async def firing_outcome(session: AsyncSession, rule: Rule, firing: Firing) -> None:
    """FIRED when done, FAILED when out of attempts, ATTEMPT_FAILED for a retried attempt."""
    action = {"done": FIRED, "failed": FAILED}.get(firing.state, ATTEMPT_FAILED)
    payload = {
        "trigger_id": rule.id,
        "trigger_name": rule.name,
        "trigger_version": rule.version,
        "event_id": firing.event_id,
        "event_seq": firing.event_seq,
        "event_action": firing.event_action,
        "event_target": firing.event_target,
        "step": firing.step,
        "attempts": firing.attempts,
        "created": firing.created,
        "error": firing.last_error,
    }
    outcome = "success" if action == FIRED else "failure"
    target = f"trigger_firing/{firing.id}"
    await _record(session, rule_actor(rule), action, target, payload, outcome=outcome)
