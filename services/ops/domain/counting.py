"""How an action's votes count toward its approval.

Only votes on the current parameters_version count (a parameter change voids the others).
Approval needs M distinct approvals (approvals_required) AND every role requirement filled by a
distinct approver: each approver fills at most one requirement slot, even holding two roles, and
the slots are filled by a maximum bipartite matching (augmenting paths), so the order of the
votes never matters. A "compliance" slot is filled by compliance or admin
(runtime.auth.COMPLIANCE); any other role's slot only by that role. A sensitive action
(HIGH/CRITICAL risk, or compliance-relevant) whose policy names no compliance/admin requirement
gets an implicit "compliance (1)" slot."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from runtime.auth import APPROVERS, COMPLIANCE
from services.ops.domain.actions import Action, State
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
    approving = _approving(action)
    missing, empty = _missing(action, approving)
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


def counting_roles(action: Action) -> frozenset[str]:
    """The approver roles whose approval would still bring a pending action closer to approval
    (none once it is not pending). An approval from someone holding none of them would change
    nothing, now or later: only role slots are left to fill, and none of theirs. Holding roles
    R, an approval counts exactly when one of R is here, since the slots a new approver can reach
    by re-matching do not depend on who they are; so this per-role set, stored with the action
    (repository.actions), answers for any voter."""
    if action.state is not State.PENDING_APPROVAL:
        return frozenset()
    approving = _approving(action)
    before, _ = _missing(action, approving)
    return frozenset(
        role for role in APPROVERS if _missing(action, [*approving, frozenset({role})])[0] < before
    )


def _approving(action: Action) -> list[frozenset[str]]:
    return [v.roles for v in action.current_votes if v.approve]


def _missing(action: Action, approving: list[frozenset[str]]) -> tuple[int, list[str]]:
    """How many approvals are still missing with these approvers, and the slots left empty."""
    empty = unmatched(slots(action), approving)
    return max(action.approvals_required - len(approving), len(empty), 0), empty
