"""What a service may do beyond its role follows from whose key signed its token (issue 16,
items 2, 4 and 6 together): only the agent proposes for someone else and runs executions; the
gateway's key, another service's or a desk system's speaks only for itself. And whoever
requested an action or wrote its parameters does not execute it by hand."""

from __future__ import annotations

import grpc

from tests.ops.test_execution_claims import approved, fetched, refused
from tests.ops.test_grpc import Tokens, request
from tests.ops.test_grpc_workflow import Stub, as_
from tradeops.ops.v1 import ops_service_pb2 as pb

OTHERS = ("svc:gateway", "svc:export", "svc:md-gateway")


async def test_only_the_agent_names_someone_else_as_the_requester(
    ops: Stub, token_for: Tokens
) -> None:
    for n, subject in enumerate(OTHERS):
        framing = request(source_ref=f"framing/{n}")  # requested_by="rita"
        proposed = await ops.ProposeAction(
            framing, metadata=as_(token_for, subject, "service"), timeout=5
        )
        assert proposed.requested_by == subject
    agent = as_(token_for, "svc:agent", "service")
    named = await ops.ProposeAction(request(source_ref="framing/agent"), metadata=agent)
    assert named.requested_by == "rita"


async def test_no_service_but_the_agent_claims_an_execution(ops: Stub, token_for: Tokens) -> None:
    action = await approved(ops, token_for, "claims/others")
    start = pb.StartExecutionRequest(id=action.id, executor="webhook:desk-oms")
    for subject in OTHERS:
        denied = await refused(
            ops.StartExecution(start, metadata=as_(token_for, subject, "service"), timeout=5)
        )
        assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "only the agent's executors" in (denied.details() or "")
    assert (await fetched(ops, token_for, action.id)).state == pb.ACTION_STATE_APPROVED


async def test_the_requester_does_not_execute_their_own_action_by_hand(
    ops: Stub, token_for: Tokens
) -> None:
    olga = as_(token_for, "olga", "ops")
    mine = await ops.ProposeAction(request(source_ref="by-hand/olga"), metadata=olga, timeout=5)
    vote = pb.VoteRequest(id=mine.id)
    await ops.ApproveAction(vote, metadata=as_(token_for, "bob", "ops"), timeout=5)
    start = pb.StartExecutionRequest(id=mine.id)
    denied = await refused(ops.StartExecution(start, metadata=olga, timeout=5))
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "olga requested action" in (denied.details() or "")
    assert (await fetched(ops, token_for, mine.id)).state == pb.ACTION_STATE_APPROVED
    bob = as_(token_for, "bob", "ops")
    started = await ops.StartExecution(start, metadata=bob, timeout=5)
    assert started.state == pb.ACTION_STATE_EXECUTING
