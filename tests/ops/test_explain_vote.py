"""ExplainVote through the gRPC API: each reason a person reads, and for each the vote itself
agrees: where ExplainVote says no, ApproveAction (or RejectAction) refuses with the very words
it gave; where it says yes, the vote is taken."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import grpc
import pytest
from google.protobuf import struct_pb2

from tests.ops.conftest import HandClock
from tests.ops.test_grpc import UNKNOWN_ID, code_of, propose
from tests.ops.test_grpc_workflow import Stub, Tokens, as_
from tradeops.ops.v1 import ops_service_pb2 as pb

Setup = Callable[[Stub, Tokens, HandClock], Awaitable[str]]
# Who asks in each case: (subject, roles).
OLGA, OTTO = ("olga", "ops"), ("otto", "ops")


async def pending(ops: Stub, token_for: Tokens, clock: HandClock) -> str:
    return (await propose(ops, token_for, source_ref=f"explain/{uuid.uuid4()}")).id


async def high(ops: Stub, token_for: Tokens, clock: HandClock) -> str:
    """HIGH risk: two approvals, one of them compliance or admin; olga has approved."""
    action = await propose(ops, token_for, pb.RISK_HIGH, source_ref=f"explain/{uuid.uuid4()}")
    vote = pb.VoteRequest(id=action.id)
    await ops.ApproveAction(vote, metadata=as_(token_for, *OLGA), timeout=5)
    return action.id


async def approved(ops: Stub, token_for: Tokens, clock: HandClock) -> str:
    action_id = await pending(ops, token_for, clock)
    await ops.ApproveAction(pb.VoteRequest(id=action_id), metadata=as_(token_for, *OTTO), timeout=5)
    return action_id


async def edited_by_bob(ops: Stub, token_for: Tokens, clock: HandClock) -> str:
    action_id = await pending(ops, token_for, clock)
    parameters = struct_pb2.Struct()
    parameters.update({"feed": "XNAS-ITCH", "to": "tertiary"})
    change = pb.UpdateParametersRequest(id=action_id, parameters=parameters, reason="degraded")
    await ops.UpdateParameters(change, metadata=as_(token_for, "bob", "ops"), timeout=5)
    return action_id


async def overdue(ops: Stub, token_for: Tokens, clock: HandClock) -> str:
    action_id = await pending(ops, token_for, clock)
    clock.advance(4 * 3600)  # the default policy's pending time-to-live; the timer has not run
    return action_id


CASES: dict[str, tuple[Setup, tuple[str, ...], str]] = {
    "votable": (pending, OLGA, ""),
    "requester": (pending, ("rita", "ops"), "you requested this action"),
    "proposer": (pending, ("triage-agent", "ops"), "you proposed this action"),
    "editor": (edited_by_bob, ("bob", "ops"), "you edited its parameters"),
    "voted": (high, OLGA, "you already approved it"),
    "role": (high, OTTO, "needs compliance or admin"),
    "compliance": (high, ("carl", "compliance"), ""),
    "decided": (approved, OLGA, "it is no longer pending (approved)"),
    "expired": (overdue, OLGA, "it is no longer pending (expired)"),
    "viewer": (pending, ("vic", "viewer"), "your role (viewer) cannot vote"),
    "agent": (pending, ("svc:agent", "service"), "the agent and other services never vote"),
}


@pytest.mark.parametrize("case", CASES)
async def test_the_vote_does_what_explain_vote_said(
    ops: Stub, token_for: Tokens, hand_clock: HandClock, case: str
) -> None:
    setup, caller, reason = CASES[case]
    metadata = as_(token_for, *caller)
    for approving in (True, False):
        action_id = await setup(ops, token_for, hand_clock)  # a fresh one for each vote
        explained = await ops.ExplainVote(pb.ExplainVoteRequest(id=action_id), metadata=metadata)
        assert (explained.id, explained.reason) == (action_id, reason)
        allowed = explained.may_approve if approving else explained.may_reject
        refusal = explained.approve_refusal if approving else explained.reject_refusal
        vote = ops.ApproveAction if approving else ops.RejectAction
        call = vote(pb.VoteRequest(id=action_id), metadata=metadata, timeout=5)
        if allowed:
            assert refusal == ""
            assert (await call).id == action_id
            continue
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refusal
        assert refused.value.details() == refusal


async def test_a_refused_approval_may_still_reject(
    ops: Stub, token_for: Tokens, hand_clock: HandClock
) -> None:
    action_id = await high(ops, token_for, hand_clock)

    explained = await ops.ExplainVote(
        pb.ExplainVoteRequest(id=action_id), metadata=as_(token_for, *OTTO), timeout=5
    )

    assert (explained.may_approve, explained.may_reject) == (False, True)
    assert list(explained.roles_needed) == ["compliance", "admin"]
    assert explained.approve_refusal.startswith("otto's approval would not count")


async def test_explaining_an_unknown_action_is_not_found(ops: Stub, token_for: Tokens) -> None:
    call = ops.ExplainVote(
        pb.ExplainVoteRequest(id=UNKNOWN_ID), metadata=as_(token_for, *OLGA), timeout=5
    )
    assert await code_of(call) == grpc.StatusCode.NOT_FOUND


async def test_the_inbox_over_grpc_is_the_callers_by_deadline(
    ops: Stub, token_for: Tokens, hand_clock: HandClock
) -> None:
    low = await pending(ops, token_for, hand_clock)
    critical = await propose(ops, token_for, pb.RISK_CRITICAL, source_ref="explain/critical")
    waiting = await high(ops, token_for, hand_clock)
    request = pb.ListActionsRequest(awaiting_me=True, order=pb.ACTION_ORDER_DEADLINE)

    mine = await ops.ListActions(request, metadata=as_(token_for, *OTTO), timeout=5)
    carls = await ops.ListActions(request, metadata=as_(token_for, "carl", "compliance"))
    all_pending = pb.ListActionsRequest(
        state=pb.ACTION_STATE_PENDING_APPROVAL, order=pb.ACTION_ORDER_DEADLINE
    )
    everyone = await ops.ListActions(all_pending, metadata=as_(token_for, "vic", "viewer"))

    ours = {low, critical.id, waiting}
    assert [a.id for a in mine.actions] == [critical.id, low]  # one hour, then four
    assert [a.id for a in carls.actions] == [critical.id, waiting, low]  # HIGH before LOW
    assert [a.id for a in everyone.actions if a.id in ours] == [critical.id, waiting, low]


async def test_deadline_order_without_a_pending_filter_is_refused(
    ops: Stub, token_for: Tokens
) -> None:
    request = pb.ListActionsRequest(order=pb.ACTION_ORDER_DEADLINE)
    call = ops.ListActions(request, metadata=as_(token_for, *OLGA), timeout=5)
    assert await code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
