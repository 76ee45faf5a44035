"""Who may claim an action for execution, and who may then say how it ended.

The claimant is the authenticated caller, never a name a caller chooses (issue 16: any ops user
could start an execution under an executor's name, or record a result while the real executor
ran). A service claims as its principal, with the name of the executor it runs as a label; a
person claims "by hand" (there is no executor configured for every kind: approved actions then
wait for a person) and is then the executor. While the action is EXECUTING only its claimant
records the result; once it is OUTCOME_UNKNOWN only a person resolves it, saying what the desk
system shows."""

from __future__ import annotations

from runtime.auth import Principal
from runtime.errors import InvalidArgument, PermissionDenied
from services.ops.domain.actions import Action, State

BY_HAND = "by hand"


def claimant_of(principal: Principal) -> str:
    """Kind first, as Action.proposer: a person whose subject equals a service's name is still
    not that service."""
    return f"{principal.kind}:{principal.subject}"


def subject_of(claimant: str) -> str:
    return claimant.partition(":")[2]


def executor_for(principal: Principal, executor: str) -> str:
    """The executor name a claim records: the service's, or BY_HAND for a person."""
    name = executor.strip()
    if principal.kind == "service":
        if not principal.acts_for_others:
            raise PermissionDenied(
                f"{principal.subject} may not execute actions: only the agent's executors do"
            )
        if not name:
            raise InvalidArgument("executor is required: the name of the executor that runs it")
        return name
    if name:
        raise PermissionDenied(
            f"{principal.subject} may not start an execution as executor {name!r}: executor"
            " names are for services; a person executes by hand (no executor) and is then the"
            " only one who may record its result"
        )
    return BY_HAND


def check_hands(action: Action, principal: Principal) -> None:
    """Whoever requested the action or wrote its parameters does not execute it by hand: they
    would then also be the only one to say how it went."""
    if principal.kind == "service":
        return
    if principal.subject in (action.requested_by, action.parameters_author):
        role = (
            "requested" if principal.subject == action.requested_by else "wrote the parameters of"
        )
        raise PermissionDenied(
            f"{principal.subject} {role} action {action.id} and may not execute it by hand"
        )


def check_result(action: Action, principal: Principal, detail: str) -> None:
    """Refuses a result from anyone but the claimant of an EXECUTING action, from a service
    for an OUTCOME_UNKNOWN one, and a person's resolution that does not say what they found.
    Other states are left to the state machine (Conflict)."""
    if action.state is State.EXECUTING:
        _check_claimant(action, principal)
    elif action.state is State.OUTCOME_UNKNOWN:
        if principal.kind == "service":
            raise PermissionDenied(
                f"action {action.id} is OUTCOME_UNKNOWN: a person must check the desk system"
                " to resolve it"
            )
        if not detail.strip():
            raise InvalidArgument(
                "detail is required to resolve an unknown outcome: what the desk system shows"
            )


def _check_claimant(action: Action, principal: Principal) -> None:
    if action.claimed_by:
        if claimant_of(principal) == action.claimed_by:
            return
        who = subject_of(action.claimed_by)
        how = "by hand" if action.executor == BY_HAND else f"as {action.executor}"
        raise PermissionDenied(
            f"{principal.subject} may not record the result of action {action.id}: {who}"
            f" claimed it ({how}) and only {who} may; people resolve it once it is"
            " OUTCOME_UNKNOWN"
        )
    # No claimant on record (claimed before 0009, with no timeline entry to backfill it from):
    # the executors, services, may still report; people wait for OUTCOME_UNKNOWN.
    if principal.kind != "service":
        raise PermissionDenied(
            f"{principal.subject} may not record the result of action {action.id}: it is"
            f" being executed by {action.executor or 'an executor'}; people resolve it once it"
            " is OUTCOME_UNKNOWN"
        )
