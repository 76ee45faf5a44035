"""When an action's votes decide it: K rejections (the policy's rejections_to_reject) reject,
and approval needs what domain.counting counts (M distinct approvals and every role requirement
filled). Who may vote at all, and the refusals, are domain.eligibility's: the vote refuses with
the same answer ExplainVote and the inbox give.

Refusals: PermissionDenied for a service or the agent, a role without approver rights, the
requester, the proposer, or the author of the current parameters (an edit is a request of its
own: without this, someone could rewrite another's action and approve it alone), and for an
approval that would count toward nothing the action still needs; Conflict when the action is
not pending or the voter already voted on these parameters."""

from __future__ import annotations

from dataclasses import replace

from services.ops.domain.actions import Action, State, Vote
from services.ops.domain.counting import Tally, needs_text, tally
from services.ops.domain.eligibility import refusal

__all__ = ["Tally", "decide", "needs_text", "tally"]


def decide(action: Action, vote: Vote) -> tuple[Action, State | None]:
    """The action with `vote` added, and the state it must move to (None: still pending)."""
    refused = refusal(action, vote)
    if refused is not None:
        raise refused.exception()
    vote = replace(vote, parameters_version=action.parameters_version)
    voted = action.changed(vote.at, votes=(*action.votes, vote))
    counted = tally(voted)
    if counted.rejections >= action.policy.rejections_to_reject:
        return voted, State.REJECTED
    if vote.approve and counted.approved:
        return voted, State.APPROVED
    return voted, None
