"""Who may vote on an action, and when its votes decide it.

Only votes on the current parameters_version count (a parameter change voids the others).
K rejections (the policy's rejections_to_reject) reject. Approval needs M distinct approvals
(approvals_required) AND every role requirement filled by a distinct approver: each approver
fills at most one requirement slot, even holding two roles, and the slots are filled by a
maximum bipartite matching (augmenting paths), so the order of the votes never matters. A
"compliance" slot is filled by compliance or admin (runtime.auth.COMPLIANCE); any other role's
slot only by that role. A sensitive action (HIGH/CRITICAL risk, or compliance-relevant) whose
policy names no compliance/admin requirement gets an implicit "compliance (1)" slot.

Refusals: PermissionDenied for a service or the agent, a role without approver rights, the
requester, the proposer, or the author of the current parameters (an edit is a request of its
own: without this, someone could rewrite another's action and approve it alone); Conflict
when the action is not pending or the voter already voted on these parameters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from runtime.auth import APPROVERS, COMPLIANCE, SERVICE
from runtime.errors import Conflict, PermissionDenied
from services.ops.domain.actions import Action, State, Vote
from services.ops.domain.policy import SENSITIVE, RoleRequirement


@dataclass(frozen=True)
class Tally:
    approvals: int
    rejections: int
    approvals_missing: int
    roles_missing: tuple[RoleRequirement, ...]
    needs: str

    @property
    def approved(self) -> bool:
        return self.approvals_missing == 0


def sensitive(action: Action) -> bool:
    return action.risk in SENSITIVE or action.compliance_relevant


def slots(action: Action) -> list[str]:
    """One entry per approval a role requirement asks for, implicit compliance included."""
    wanted = [r.role for r in action.policy.role_requirements for _ in range(r.count)]
    if sensitive(action) and not COMPLIANCE & set(wanted):
        wanted.append("compliance")
    return sorted(wanted)


def fills(roles: frozenset[str], role: str) -> bool:
    return role in roles or (role == "compliance" and bool(roles & COMPLIANCE))


def unmatched(slot_roles: list[str], approvers: list[frozenset[str]]) -> list[str]:
    """The slots left empty by a maximum matching of approvers (one slot each) to slots."""
    holder: dict[int, int] = {}  # slot index -> approver index

    def place(who: int, seen: set[int]) -> bool:
        for slot, role in enumerate(slot_roles):
            if slot in seen or not fills(approvers[who], role):
                continue
            seen.add(slot)
            if slot not in holder or place(holder[slot], seen):
                holder[slot] = who
                return True
        return False

    for who in range(len(approvers)):
        place(who, set())
    return [role for slot, role in enumerate(slot_roles) if slot not in holder]


def tally(action: Action) -> Tally:
    approving = [v.roles for v in action.current_votes if v.approve]
    empty = unmatched(slots(action), approving)
    missing = max(action.approvals_required - len(approving), len(empty), 0)
    roles = tuple(RoleRequirement(r, n) for r, n in sorted(Counter(empty).items()))
    pending = action.state is State.PENDING_APPROVAL
    return Tally(
        approvals=len(approving),
        rejections=action.rejections,
        approvals_missing=missing,
        roles_missing=roles,
        needs=needs_text(missing, roles) if pending else "",
    )


def needs_text(missing: int, roles: tuple[RoleRequirement, ...]) -> str:
    """For example "2 more approvals needed, from: compliance (1), ops (1)"; "" for none."""
    if missing <= 0:
        return ""
    head = f"{missing} more approval{'s' if missing != 1 else ''} needed"
    parts = [f"{r.role} ({r.count})" for r in roles]
    anyone = missing - sum(r.count for r in roles)
    if parts and anyone > 0:
        parts.append(f"any approver ({anyone})")
    return f"{head}, from: {', '.join(parts)}" if parts else head


def decide(action: Action, vote: Vote) -> tuple[Action, State | None]:
    """The action with `vote` added, and the state it must move to (None: still pending)."""
    check_voter(action, vote)
    vote = replace(vote, parameters_version=action.parameters_version)
    if action.state is not State.PENDING_APPROVAL:
        raise Conflict(f"action {action.id} is {action.state}, not pending approval")
    if any(v.voter == vote.voter for v in action.current_votes):
        raise Conflict(f"{vote.voter} already voted on action {action.id}")
    voted = action.changed(vote.at, votes=(*action.votes, vote))
    counted = tally(voted)
    if counted.rejections >= action.policy.rejections_to_reject:
        return voted, State.REJECTED
    if vote.approve and counted.approved:
        return voted, State.APPROVED
    return voted, None


def check_voter(action: Action, vote: Vote) -> None:
    verb = "approve" if vote.approve else "reject"
    if SERVICE in vote.roles:
        raise PermissionDenied("the agent and other services can never vote on an action")
    if not vote.roles & APPROVERS:
        raise PermissionDenied(f"{vote.voter} lacks an approver role among {sorted(APPROVERS)}")
    if vote.voter == action.requested_by:
        raise PermissionDenied(f"a requester cannot {verb} their own action")
    if vote.voter == action.proposed_by.get("subject"):
        raise PermissionDenied(f"a proposer cannot {verb} their own proposal")
    if vote.voter == action.parameters_author:
        raise PermissionDenied(f"the author of the current parameters cannot {verb} them")
