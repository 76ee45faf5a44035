"""No pending approval sits past its escalation deadline or its expiry: both are timers in ops,
so a finding here means a timer did not fire (a stopped worker, a lost row)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.agent.compliance.domain.checks.base import Finding, Limits, Outcome, Sources, verdict
from services.agent.compliance.domain.views import ActionView, EscalationView


async def next_escalation_due(
    sources: Sources, action: ActionView, policy: EscalationView
) -> datetime | None:
    """When the action's next escalation level is due; None when no level is left or an
    acknowledgement stopped the first one."""
    level = action.escalation_level + 1
    if level > len(policy.level_after_s) + policy.repeat_limit:
        return None
    if action.escalation_level == 0:
        if action.acknowledged_at is not None:
            return None
        return action.created_at + timedelta(seconds=policy.after_s(1))
    # Level i fires after level i-1, which may have been fired by hand: ask the timeline.
    fired = await sources.escalated_at(action.id)
    if fired:
        base = max(fired)
    else:
        base = action.created_at + sum(
            (timedelta(seconds=policy.after_s(n)) for n in range(1, level)), timedelta()
        )
    return base + timedelta(seconds=policy.after_s(level))


async def overdue_reason(
    sources: Sources, action: ActionView, limits: Limits, now: datetime
) -> tuple[str, datetime] | None:
    if action.expires_at is not None and now > action.expires_at + limits.escalation_grace:
        return "still pending after its expiry", action.expires_at
    policies = await sources.escalation_policies()
    policy = policies.get(action.policy.escalation_policy_id)
    if policy is None:
        return None
    due = await next_escalation_due(sources, action, policy)
    if due is not None and now > due + limits.escalation_grace:
        return f"escalation level {action.escalation_level + 1} overdue", due
    return None


async def escalation_deadlines(sources: Sources, limits: Limits, now: datetime) -> Outcome:
    pending = [a for a in await sources.actions() if a.state == "PENDING_APPROVAL"]
    findings = []
    for action in pending:
        found = await overdue_reason(sources, action, limits, now)
        if found:
            reason, due = found
            facts = {
                "due": due.isoformat(),
                "escalation_level": action.escalation_level,
                "escalation_policy_id": action.policy.escalation_policy_id,
            }
            findings.append(
                Finding(f"action/{action.id}", f"{reason} (due {due.isoformat()})", facts)
            )
    return verdict(len(pending), findings, "pending actions")
