"""The approval workflow through the gRPC API: what approvers, the agent and admins see."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import grpc
import pytest
from google.protobuf import struct_pb2

from runtime.clients import bearer
from tests.ops.conftest import HandClock
from tests.ops.test_grpc import code_of, propose
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc

Tokens = Callable[..., str]
Stub: TypeAlias = "pb_grpc.OpsServiceAsyncStub"


def as_(token_for: Tokens, subject: str, *roles: str) -> tuple[tuple[str, str], ...]:
    return bearer(token_for(subject, *roles))


async def test_an_action_says_what_it_still_needs(ops: Stub, token_for: Tokens) -> None:
    proposed = await propose(ops, token_for, pb.RISK_CRITICAL, source_ref="needs/1")
    assert proposed.policy.id == "critical"
    assert proposed.approvals_required == 2
    assert proposed.needs == "2 more approvals needed, from: compliance (1), ops (1)"
    assert [(r.role, r.count) for r in proposed.roles_missing] == [("compliance", 1), ("ops", 1)]
    vote = pb.VoteRequest(id=proposed.id)
    once = await ops.ApproveAction(vote, metadata=as_(token_for, "olga", "ops"), timeout=5)
    assert (once.approvals, once.approvals_missing) == (1, 1)
    assert once.needs == "1 more approval needed, from: compliance (1)"
    done = await ops.ApproveAction(vote, metadata=as_(token_for, "carl", "compliance"), timeout=5)
    assert done.state == pb.ACTION_STATE_APPROVED
    assert done.needs == ""
    assert done.valid_until.ToSeconds() - done.updated_at.ToSeconds() == 1800


async def test_the_agent_can_never_vote(ops: Stub, token_for: Tokens) -> None:
    proposed = await propose(ops, token_for, source_ref="agent/1")
    call = ops.ApproveAction(
        pb.VoteRequest(id=proposed.id), metadata=as_(token_for, "svc:agent", "service"), timeout=5
    )
    assert await code_of(call) == grpc.StatusCode.PERMISSION_DENIED


async def test_new_parameters_void_the_votes_so_far(ops: Stub, token_for: Tokens) -> None:
    proposed = await propose(ops, token_for, pb.RISK_HIGH, source_ref="params/1")
    vote = pb.VoteRequest(id=proposed.id)
    await ops.ApproveAction(vote, metadata=as_(token_for, "olga", "ops"), timeout=5)
    parameters = struct_pb2.Struct()
    parameters.update({"feed": "XNAS-ITCH", "to": "tertiary"})
    changed = await ops.UpdateParameters(
        pb.UpdateParametersRequest(id=proposed.id, parameters=parameters, reason="2nd degraded"),
        metadata=as_(token_for, "svc:agent", "service"),
        timeout=5,
    )
    assert changed.parameters_version == 2
    assert changed.approvals == 0
    assert [(v.voter, v.voided, v.parameters_version) for v in changed.votes] == [("olga", True, 1)]


async def test_the_requester_cancels_and_a_stranger_may_not(ops: Stub, token_for: Tokens) -> None:
    proposed = await propose(ops, token_for, source_ref="cancel/1")
    cancel = pb.CancelActionRequest(id=proposed.id, reason="feed recovered")
    stranger = ops.CancelAction(cancel, metadata=as_(token_for, "tom", "trader"), timeout=5)
    assert await code_of(stranger) == grpc.StatusCode.PERMISSION_DENIED
    done = await ops.CancelAction(cancel, metadata=as_(token_for, "rita", "trader"), timeout=5)
    assert done.state == pb.ACTION_STATE_CANCELLED
    assert done.cancel_reason == "feed recovered"


async def test_people_assign_acknowledge_and_comment_on_the_timeline(
    ops: Stub, token_for: Tokens, hand_clock: HandClock
) -> None:
    proposed = await propose(ops, token_for, source_ref="timeline/1")
    olga = as_(token_for, "olga", "ops")
    hand_clock.advance(60)
    mine = await ops.AssignAction(pb.AssignActionRequest(id=proposed.id), metadata=olga, timeout=5)
    assert mine.assignee == "olga"
    acked = await ops.AcknowledgeAction(
        pb.AcknowledgeActionRequest(id=proposed.id), metadata=olga, timeout=5
    )
    assert acked.acknowledged_at.ToSeconds() == proposed.created_at.ToSeconds() + 60
    note = await ops.AddComment(
        pb.AddCommentRequest(id=proposed.id, text="desk confirms gaps"),
        metadata=as_(token_for, "tom", "trader"),
        timeout=5,
    )
    assert (note.kind, note.actor, note.machine) == ("comment", "tom", False)
    viewer = as_(token_for, "vic", "viewer")
    timeline = await ops.GetTimeline(
        pb.GetTimelineRequest(id=proposed.id), metadata=viewer, timeout=5
    )
    assert [e.kind for e in timeline.entries] == [
        "state",
        "assignment",
        "acknowledgement",
        "comment",
    ]
    assert timeline.entries[-1] == note
    listed = await ops.ListActions(
        pb.ListActionsRequest(assignee="olga", state=pb.ACTION_STATE_PENDING_APPROVAL),
        metadata=viewer,
        timeout=5,
    )
    assert proposed.id in [a.id for a in listed.actions]


@pytest.mark.parametrize(
    ("method", "message", "role"),
    [
        ("AddComment", pb.AddCommentRequest(text="hi"), "viewer"),
        ("AssignAction", pb.AssignActionRequest(), "trader"),
        ("AcknowledgeAction", pb.AcknowledgeActionRequest(), "trader"),
        ("EscalateAction", pb.EscalateActionRequest(), "viewer"),
        ("StartExecution", pb.StartExecutionRequest(), "compliance"),
        ("RecordExecutionResult", pb.RecordExecutionResultRequest(), "trader"),
        ("UpdateParameters", pb.UpdateParametersRequest(), "compliance"),
        ("PutEscalationPolicy", pb.PutEscalationPolicyRequest(), "ops"),
    ],
)
async def test_a_role_without_the_right_is_refused(
    ops: Stub, token_for: Tokens, method: str, message: object, role: str
) -> None:
    proposed = await propose(ops, token_for, source_ref=f"rbac/{method}")
    if hasattr(message, "id"):
        message.id = proposed.id
    call = getattr(ops, method)(message, metadata=as_(token_for, "someone", role), timeout=5)
    assert await code_of(call) == grpc.StatusCode.PERMISSION_DENIED


async def test_execution_outside_the_window_fails_and_the_action_expires(
    ops: Stub, token_for: Tokens, hand_clock: HandClock
) -> None:
    proposed = await propose(ops, token_for, source_ref="window/1")
    await ops.ApproveAction(
        pb.VoteRequest(id=proposed.id), metadata=as_(token_for, "olga", "ops"), timeout=5
    )
    hand_clock.advance(3600)
    agent = as_(token_for, "svc:agent", "service")
    start = pb.StartExecutionRequest(id=proposed.id, executor="webhook:oms")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ops.StartExecution(start, metadata=agent, timeout=5)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "it is now EXPIRED" in (caught.value.details() or "")
    fetched = await ops.GetAction(pb.GetActionRequest(id=proposed.id), metadata=agent, timeout=5)
    assert fetched.state == pb.ACTION_STATE_EXPIRED


async def test_an_executor_reports_how_it_ended(
    ops: Stub, token_for: Tokens, hand_clock: HandClock
) -> None:
    proposed = await propose(ops, token_for, source_ref="exec/1")
    await ops.ApproveAction(
        pb.VoteRequest(id=proposed.id), metadata=as_(token_for, "olga", "ops"), timeout=5
    )
    agent = as_(token_for, "svc:agent", "service")
    hand_clock.advance(30)
    started = await ops.StartExecution(
        pb.StartExecutionRequest(id=proposed.id, executor="webhook:oms"), metadata=agent, timeout=5
    )
    assert started.state == pb.ACTION_STATE_EXECUTING
    result = pb.RecordExecutionResultRequest(
        id=proposed.id, outcome=pb.ACTION_STATE_OUTCOME_UNKNOWN, detail="OMS timed out"
    )
    unknown = await ops.RecordExecutionResult(result, metadata=agent, timeout=5)
    assert unknown.state == pb.ACTION_STATE_OUTCOME_UNKNOWN
    assert unknown.execution_detail == "OMS timed out"
    resolved = await ops.RecordExecutionResult(
        pb.RecordExecutionResultRequest(
            id=proposed.id, outcome=pb.ACTION_STATE_EXECUTED, detail="OMS shows secondary"
        ),
        metadata=as_(token_for, "otto", "ops"),
        timeout=5,
    )
    assert resolved.state == pb.ACTION_STATE_EXECUTED


async def test_an_admin_versions_a_policy_and_others_may_only_read_it(
    ops: Stub, token_for: Tokens
) -> None:
    policy = pb.ApprovalPolicy(
        id="grpc-pricing",
        action_kind="restart_pricing_engine",
        approvals_required=2,
        rejections_to_reject=1,
        role_requirements=[pb.RoleRequirement(role="ops", count=1)],
        pending_ttl_s=1800,
        validity_s=600,
        change_reason="pricing restarts hurt",
    )
    stored = await ops.PutPolicy(
        pb.PutPolicyRequest(policy=policy), metadata=as_(token_for, "ada", "admin"), timeout=5
    )
    assert (stored.version, stored.changed_by) == (1, "ada")
    refused = ops.PutPolicy(
        pb.PutPolicyRequest(policy=policy), metadata=as_(token_for, "olga", "ops"), timeout=5
    )
    assert await code_of(refused) == grpc.StatusCode.PERMISSION_DENIED
    broken = pb.ApprovalPolicy(id="grpc-broken", action_kind="*", change_reason="x")
    invalid = ops.PutPolicy(
        pb.PutPolicyRequest(policy=broken), metadata=as_(token_for, "ada", "admin"), timeout=5
    )
    assert await code_of(invalid) == grpc.StatusCode.INVALID_ARGUMENT
    listed = await ops.ListPolicies(
        pb.ListPoliciesRequest(), metadata=as_(token_for, "vic", "viewer"), timeout=5
    )
    assert {"default", "grpc-pricing"} <= {p.id for p in listed.policies}


async def test_metrics_count_the_actions_by_state(ops: Stub, token_for: Tokens) -> None:
    proposed = await propose(ops, token_for, source_ref="metrics/1")
    await ops.RejectAction(
        pb.VoteRequest(id=proposed.id), metadata=as_(token_for, "olga", "ops"), timeout=5
    )
    found = await ops.GetMetrics(
        pb.GetMetricsRequest(since=proposed.created_at),
        metadata=as_(token_for, "vic", "viewer"),
        timeout=5,
    )
    assert found.counts_by_state["REJECTED"] >= 1
    assert [b.from_s for b in found.backlog] == [0, 300, 3600, 14400, 86400]
    assert "olga" in [a.subject for a in found.approvers]
