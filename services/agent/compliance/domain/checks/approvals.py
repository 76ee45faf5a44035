"""Checks over ops actions' votes, judged against each action's own policy snapshot. They
re-derive the rules from the votes instead of trusting ops' own tally: a row changed behind
ops' back (or a bug in ops) is exactly what they exist to catch."""

from __future__ import annotations

from datetime import datetime

from services.agent.compliance.domain.checks.base import Finding, Limits, Outcome, Sources, verdict
from services.agent.compliance.domain.views import PAST_APPROVAL, ActionView, VoteView

APPROVER_ROLES = frozenset({"ops", "compliance", "admin"})
COMPLIANCE_ROLES = frozenset({"compliance", "admin"})


def _own(action: ActionView, voter: str) -> bool:
    return voter in (action.requested_by, action.proposed_by)


def invalid_reason(action: ActionView, vote: VoteView) -> str:
    """Why an approval cannot count towards quorum; "" when it can."""
    if _own(action, vote.voter):
        return "voted on their own action"
    if action.wrote(vote.voter, vote.parameters_version):
        return "approved parameters they wrote"
    if "service" in vote.roles:
        return "is a service, never an approver"
    if not vote.roles & APPROVER_ROLES:
        return f"holds no approver role ({', '.join(sorted(vote.roles)) or 'none'})"
    return ""


def valid_approvals(action: ActionView) -> list[VoteView]:
    seen: set[str] = set()
    valid = []
    for vote in action.counted_votes:
        if vote.approve and vote.voter not in seen and not invalid_reason(action, vote):
            seen.add(vote.voter)
            valid.append(vote)
    return valid


def _fills(roles: frozenset[str], role: str) -> bool:
    return role in roles or (role == "compliance" and bool(roles & COMPLIANCE_ROLES))


def unfilled(slots: list[str], approvers: list[frozenset[str]]) -> list[str]:
    """Slots left empty by a maximum matching (each approver fills at most one slot)."""
    holder: dict[int, int] = {}

    def place(who: int, seen: set[int]) -> bool:
        for slot, role in enumerate(slots):
            if slot in seen or not _fills(approvers[who], role):
                continue
            seen.add(slot)
            if slot not in holder or place(holder[slot], seen):
                holder[slot] = who
                return True
        return False

    for who in range(len(approvers)):
        place(who, set())
    return [role for slot, role in enumerate(slots) if slot not in holder]


def quorum_problems(action: ActionView) -> list[str]:
    policy = action.policy
    valid = valid_approvals(action)
    problems = []
    if len(valid) < policy.approvals_required:
        problems.append(
            f"{len(valid)} valid approval(s), policy {policy.id} v{policy.version} "
            f"needs {policy.approvals_required}"
        )
    slots = sorted(role for role, count in policy.role_requirements for _ in range(count))
    missing = unfilled(slots, [v.roles for v in valid])
    if missing:
        problems.append(f"role requirement(s) not met: {', '.join(missing)}")
    return problems


def _vote_facts(action: ActionView) -> list[dict[str, object]]:
    return [
        {
            "voter": v.voter,
            "roles": sorted(v.roles),
            "approve": v.approve,
            "voided": v.voided or v.parameters_version != action.parameters_version,
            "invalid": invalid_reason(action, v),
        }
        for v in action.votes
    ]


async def quorum(sources: Sources, limits: Limits, now: datetime) -> Outcome:
    examined = [a for a in await sources.actions() if a.state in PAST_APPROVAL]
    findings = []
    for action in examined:
        if problems := quorum_problems(action):
            facts = {
                "state": action.state,
                "policy_id": action.policy.id,
                "policy_version": action.policy.version,
                "votes": _vote_facts(action),
            }
            reason = f"{action.state} without a valid quorum: {'; '.join(problems)}"
            findings.append(Finding(f"action/{action.id}", reason, facts))
    return verdict(len(examined), findings, "approved or executed actions")


async def self_approval(sources: Sources, limits: Limits, now: datetime) -> Outcome:
    actions = await sources.actions()
    findings = []
    for action in actions:
        for vote in (v for v in action.votes if v.approve):
            facts: dict[str, object] = {
                "voter": vote.voter,
                "state": action.state,
                "at": vote.at.isoformat(),
            }
            if _own(action, vote.voter):
                role = "requested" if vote.voter == action.requested_by else "proposed"
                reason = f"{vote.voter} approved an action they {role}"
                findings.append(Finding(f"action/{action.id}", reason, facts))
            elif action.wrote(vote.voter, vote.parameters_version):
                version = vote.parameters_version
                reason = f"{vote.voter} approved parameters version {version}, which they wrote"
                facts["parameters_version"] = version
                findings.append(Finding(f"action/{action.id}", reason, facts))
    return verdict(len(actions), findings, "actions")


async def sensitive_approval(sources: Sources, limits: Limits, now: datetime) -> Outcome:
    examined = [a for a in await sources.actions() if a.state in PAST_APPROVAL and a.sensitive]
    findings = []
    for action in examined:
        if not any(v.roles & COMPLIANCE_ROLES for v in valid_approvals(action)):
            why = "compliance-relevant" if action.risk not in ("HIGH", "CRITICAL") else action.risk
            reason = f"{why} action {action.state} without a compliance or admin approval"
            facts = {"risk": action.risk, "kind": action.kind, "votes": _vote_facts(action)}
            findings.append(Finding(f"action/{action.id}", reason, facts))
    return verdict(len(examined), findings, "high-risk or compliance-relevant actions")
