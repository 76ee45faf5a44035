"""Whether someone may vote on an action now, and if not, why: one answer for the vote itself
(ApproveAction and RejectAction refuse with it, through quorum.decide and service.voting), for
ExplainVote (the console's disabled button) and for the inbox (ListActions awaiting_me, whose SQL
form is repository.listing), so they can never disagree.

The checks run in CHECKS' order and the first that refuses answers. A Refusal carries the error
the vote answers, in the words it has always used (the "denied" audit event records them), and
the reason a person reads on a disabled button ("you requested this action"). The last check is
an approval's only: an approval that would count toward nothing the action still needs is
refused ("needs compliance or admin"); a rejection always counts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from runtime.auth import APPROVERS, ROLES, SERVICE
from runtime.errors import Conflict, PermissionDenied
from services.ops.domain.actions import Action, State, Vote
from services.ops.domain.counting import counting_roles, tally
from services.ops.domain.transition import overdue


@dataclass(frozen=True)
class Refusal:
    check: str  # the name of the check that refused (CHECKS)
    error: type[PermissionDenied] | type[Conflict]
    message: str  # what the vote answers, and its "denied" audit event records
    reason: str  # what a person reads on the disabled button
    expired: str = ""  # why the action must expire now: the vote expires it, then refuses

    def exception(self) -> PermissionDenied | Conflict:
        return self.error(self.message)


@dataclass(frozen=True)
class Eligibility:
    may_approve: bool
    may_reject: bool
    reason: str  # "" when both are allowed; else the approval's refusal, or the rejection's
    roles_needed: tuple[str, ...]  # the roles whose approval would still count
    approve_refusal: str  # the message ApproveAction would answer now ("" when it would not)
    reject_refusal: str


Check = Callable[[Action, Vote], Refusal | None]
NO_ROLE = "you hold no role that can vote"


def refusal(action: Action, vote: Vote) -> Refusal | None:
    """Why `vote` may not be cast on `action` at vote.at, or None when it may."""
    for check in CHECKS.values():
        found = check(action, vote)
        if found is not None:
            return found
    return None


def voter_refusal(vote: Vote) -> Refusal | None:
    """The checks that look at the voter alone (VOTER_CHECKS): they refuse on every action."""
    return _service(vote) or _approver(vote)


def explain(action: Action, voter: str, roles: frozenset[str], at: datetime) -> Eligibility:
    approve = refusal(action, Vote(voter, roles, True, "", at))
    reject = refusal(action, Vote(voter, roles, False, "", at))
    first = approve or reject
    needed = () if overdue(action, at) else in_order(counting_roles(action))
    return Eligibility(
        may_approve=approve is None,
        may_reject=reject is None,
        reason=first.reason if first else "",
        roles_needed=needed,
        approve_refusal=approve.message if approve else "",
        reject_refusal=reject.message if reject else "",
    )


def in_order(roles: Iterable[str]) -> tuple[str, ...]:
    """Least to most powerful, as runtime.auth.ROLES lists them."""
    return tuple(sorted(roles, key=lambda r: ROLES.index(r) if r in ROLES else len(ROLES)))


def _verb(vote: Vote) -> str:
    return "approve" if vote.approve else "reject"


def expiry(action: Action, vote: Vote) -> Refusal | None:
    """The first check: the vote expires an overdue action (its timer may not have fired yet)."""
    why = overdue(action, vote.at)
    if not why:
        return None
    message = f"action {action.id} expired: {why}"
    return Refusal("expired", Conflict, message, "it is no longer pending (expired)", why)


def _service(vote: Vote) -> Refusal | None:
    if SERVICE not in vote.roles:
        return None
    message = "the agent and other services can never vote on an action"
    return Refusal("service", PermissionDenied, message, "the agent and other services never vote")


def _approver(vote: Vote) -> Refusal | None:
    if vote.roles & APPROVERS:
        return None
    held = in_order(vote.roles)
    reason = f"your role{'s' if len(held) > 1 else ''} ({', '.join(held)}) cannot vote"
    message = f"{vote.voter} lacks an approver role among {sorted(APPROVERS)}"
    return Refusal("approver_role", PermissionDenied, message, reason if held else NO_ROLE)


def _requester(action: Action, vote: Vote) -> Refusal | None:
    if vote.voter != action.requested_by:
        return None
    message = f"a requester cannot {_verb(vote)} their own action"
    return Refusal("requester", PermissionDenied, message, "you requested this action")


def _proposer(action: Action, vote: Vote) -> Refusal | None:
    if vote.voter != action.proposed_by.get("subject"):
        return None
    message = f"a proposer cannot {_verb(vote)} their own proposal"
    return Refusal("proposer", PermissionDenied, message, "you proposed this action")


def _author(action: Action, vote: Vote) -> Refusal | None:
    if vote.voter != action.parameters_author:
        return None
    message = f"the author of the current parameters cannot {_verb(vote)} them"
    return Refusal("parameters_author", PermissionDenied, message, "you edited its parameters")


def _pending(action: Action, vote: Vote) -> Refusal | None:
    if action.state is State.PENDING_APPROVAL:
        return None
    message = f"action {action.id} is {action.state}, not pending approval"
    words = action.state.lower().replace("_", " ")
    return Refusal("pending", Conflict, message, f"it is no longer pending ({words})")


def _voted(action: Action, vote: Vote) -> Refusal | None:
    mine = [v for v in action.current_votes if v.voter == vote.voter]
    if not mine:
        return None
    message = f"{vote.voter} already voted on action {action.id}"
    how = "approved" if mine[0].approve else "rejected"
    return Refusal("voted", Conflict, message, f"you already {how} it")


def _counting(action: Action, vote: Vote) -> Refusal | None:
    wanted = counting_roles(action)
    if not vote.approve or vote.roles & wanted:
        return None
    either = _either(in_order(wanted))
    message = (
        f"{vote.voter}'s approval would not count: action {action.id} needs {either}"
        f" ({tally(action).needs})"
    )
    return Refusal("counting", PermissionDenied, message, f"needs {either}")


def _either(names: tuple[str, ...]) -> str:
    """("ops", "compliance", "admin") -> "ops, compliance or admin"."""
    if len(names) < 2:
        return names[0] if names else "no more approvals"
    return f"{', '.join(names[:-1])} or {names[-1]}"


# The order the vote has always checked in: expiry (service.voting, before anything else),
# then who votes, then the action's state and the voter's earlier vote; counting comes last.
CHECKS: dict[str, Check] = {
    "expired": expiry,
    "service": lambda action, vote: _service(vote),
    "approver_role": lambda action, vote: _approver(vote),
    "requester": _requester,
    "proposer": _proposer,
    "parameters_author": _author,
    "pending": _pending,
    "voted": _voted,
    "counting": _counting,
}
VOTER_CHECKS = ("service", "approver_role")
