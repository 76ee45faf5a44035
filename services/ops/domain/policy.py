"""Approval policies: who must approve an action of some kind and risk, and for how long it
stays open. Versions are never edited: a change is version N+1. The most specific policy wins
(kind and risk, then kind, then risk, then "*" with any risk); the action keeps a snapshot."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from runtime.auth import APPROVERS
from runtime.errors import InvalidArgument, NotFound

ANY_KIND = "*"


class Risk(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


SENSITIVE = frozenset({Risk.HIGH, Risk.CRITICAL})


@dataclass(frozen=True)
class RoleRequirement:
    role: str
    count: int


@dataclass(frozen=True)
class Policy:
    id: str
    action_kind: str = ANY_KIND
    risk: Risk | None = None  # None: any risk
    approvals_required: int = 1
    rejections_to_reject: int = 1
    role_requirements: tuple[RoleRequirement, ...] = field(default_factory=tuple)
    pending_ttl_s: int = 4 * 3600
    validity_s: int = 3600
    compliance_relevant: bool = False
    escalation_policy_id: str = ""
    version: int = 1
    changed_by: str = ""
    changed_at: datetime | None = None
    change_reason: str = ""

    @property
    def pending_ttl(self) -> timedelta:
        return timedelta(seconds=self.pending_ttl_s)

    @property
    def validity(self) -> timedelta:
        return timedelta(seconds=self.validity_s)

    def specificity(self, kind: str, risk: Risk) -> int | None:
        """How closely this policy fits (higher wins), or None when it does not apply."""
        if self.action_kind not in (ANY_KIND, kind) or self.risk not in (None, risk):
            return None
        return (2 if self.action_kind == kind else 0) + (1 if self.risk is not None else 0)


# Used only when no stored policy applies (the migration seeds a "*" policy, so never in
# practice) and for actions built in memory by tests.
DEFAULT_POLICY = Policy(id="default")


def validate(policy: Policy) -> None:
    """Raises InvalidArgument naming the first thing wrong with a policy about to be stored."""
    problems = [
        (not policy.id.strip(), "id is required"),
        (not policy.action_kind.strip(), 'action_kind is required ("*" for any kind)'),
        (policy.approvals_required < 1, "approvals_required (M) must be at least 1"),
        (policy.rejections_to_reject < 1, "rejections_to_reject (K) must be at least 1"),
        (policy.pending_ttl_s <= 0, "pending_ttl_s must be positive"),
        (policy.validity_s <= 0, "validity_s must be positive"),
    ]
    for failed, message in problems:
        if failed:
            raise InvalidArgument(message)
    for requirement in policy.role_requirements:
        if requirement.role not in APPROVERS:
            raise InvalidArgument(
                f"role {requirement.role!r} cannot approve; use one of {sorted(APPROVERS)}"
            )
        if requirement.count < 1:
            raise InvalidArgument(f"role {requirement.role} needs a count of at least 1")
    if sum(r.count for r in policy.role_requirements) > policy.approvals_required:
        raise InvalidArgument("role requirements add up to more than approvals_required (M)")


def select(policies: Iterable[Policy], kind: str, risk: Risk) -> Policy:
    """The most specific of the current policies for an action of `kind` and `risk`."""
    fitting = [(p.specificity(kind, risk), p.id, p) for p in policies]
    ranked = sorted(
        ((s, i, p) for s, i, p in fitting if s is not None), key=lambda t: (-t[0], t[1])
    )
    if not ranked:
        raise NotFound(f"no approval policy governs kind {kind!r} at risk {risk}")
    return ranked[0][2]


def minimum_risk(policies: Iterable[Policy], kind: str) -> Risk | None:
    """The lowest risk an action of `kind` may be proposed at: the lowest risk a policy names
    for that very kind, or None when no policy names the kind or one covers it at any risk. Not
    the highest named risk: with policies for HIGH and CRITICAL, HIGH would never apply."""
    named = [p.risk for p in policies if p.action_kind == kind]
    if not named or None in named:
        return None
    return min((r for r in named if r is not None), key=list(Risk).index)


def require_minimum_risk(policies: Iterable[Policy], kind: str, risk: Risk) -> None:
    """Refuses a risk below the kind's minimum: a lower one would pick a laxer policy."""
    floor = minimum_risk(policies, kind)
    if floor is not None and list(Risk).index(risk) < list(Risk).index(floor):
        raise InvalidArgument(f"risk {risk} is below {floor}, the minimum for kind {kind!r}")


def snapshot(policy: Policy) -> dict[str, Any]:
    """The JSON form stored on the action (and in audit payloads)."""
    data = asdict(policy)
    data["risk"] = policy.risk.value if policy.risk else ""
    data["changed_at"] = policy.changed_at.isoformat() if policy.changed_at else ""
    return data


def from_snapshot(data: dict[str, Any]) -> Policy:
    values = dict(data)
    values["risk"] = Risk(values["risk"]) if values.get("risk") else None
    at = values.get("changed_at")
    values["changed_at"] = datetime.fromisoformat(at) if at else None
    values["role_requirements"] = tuple(
        RoleRequirement(str(r["role"]), int(r["count"])) for r in values["role_requirements"]
    )
    return Policy(**values)
