from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from tests.gateway.conftest import Gateway, assert_forwarded
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as pb

ACTION_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a002"
ACTION = f"/agent/ops/actions/{ACTION_ID}"
POLICY = {
    "action_kind": "flatten_position",
    "risk": "HIGH",
    "approvals_required": 2,
    "rejections_to_reject": 1,
    "role_requirements": [{"role": "compliance", "count": 1}],
    "pending_ttl_s": 3600,
    "validity_s": 600,
    "compliance_relevant": True,
    "escalation_policy_id": "desk-pager",
    "change_reason": "a compliance eye on every flattening",
}


def struct(values: dict[str, Any]) -> Struct:
    message = Struct()
    message.update(values)
    return message


def stamp(moment: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(moment)
    return result


# (role, HTTP method, url, body, RPC, the request the ops service must receive)
FORWARDED: list[tuple[str, str, str, Any, str, Message]] = [
    (
        "trader",
        "POST",
        f"{ACTION}/cancel",
        {"reason": "feed recovered"},
        "CancelAction",
        pb.CancelActionRequest(id=ACTION_ID, reason="feed recovered"),
    ),
    (
        "ops",
        "PUT",
        f"{ACTION}/parameters",
        {"parameters": {"feed": "XNAS-ITCH", "to": ["b", 2, None]}, "reason": "wrong side"},
        "UpdateParameters",
        pb.UpdateParametersRequest(
            id=ACTION_ID,
            parameters=struct({"feed": "XNAS-ITCH", "to": ["b", 2, None]}),
            reason="wrong side",
        ),
    ),
    (
        "compliance",
        "POST",
        f"{ACTION}/assign",
        {"assignee": "carol", "team": "desk ops"},
        "AssignAction",
        pb.AssignActionRequest(id=ACTION_ID, assignee="carol", team="desk ops"),
    ),
    ("ops", "POST", f"{ACTION}/assign", {}, "AssignAction", pb.AssignActionRequest(id=ACTION_ID)),
    (
        "ops",
        "POST",
        f"{ACTION}/acknowledge",
        {},
        "AcknowledgeAction",
        pb.AcknowledgeActionRequest(id=ACTION_ID),
    ),
    (
        "ops",
        "POST",
        f"{ACTION}/acknowledge",
        None,
        "AcknowledgeAction",
        pb.AcknowledgeActionRequest(id=ACTION_ID),
    ),
    (
        "admin",
        "POST",
        f"{ACTION}/escalate",
        {"reason": "nobody answers"},
        "EscalateAction",
        pb.EscalateActionRequest(id=ACTION_ID, reason="nobody answers"),
    ),
    (
        "viewer",
        "GET",
        f"{ACTION}/eligibility",
        None,
        "ExplainVote",
        pb.ExplainVoteRequest(id=ACTION_ID),
    ),
    (
        "viewer",
        "GET",
        f"{ACTION}/timeline",
        None,
        "GetTimeline",
        pb.GetTimelineRequest(id=ACTION_ID),
    ),
    (
        "ops",
        "POST",
        f"{ACTION}/execution",
        {"executor": "webhook:desk-oms"},
        "StartExecution",
        pb.StartExecutionRequest(id=ACTION_ID, executor="webhook:desk-oms"),
    ),
    (
        "admin",
        "POST",
        f"{ACTION}/execution/result",
        {"outcome": "OUTCOME_UNKNOWN", "detail": "OMS timed out"},
        "RecordExecutionResult",
        pb.RecordExecutionResultRequest(
            id=ACTION_ID, outcome=pb.ACTION_STATE_OUTCOME_UNKNOWN, detail="OMS timed out"
        ),
    ),
    (
        "viewer",
        "GET",
        "/agent/ops/policies?include_history=true",
        None,
        "ListPolicies",
        pb.ListPoliciesRequest(include_history=True),
    ),
    ("viewer", "GET", "/agent/ops/policies", None, "ListPolicies", pb.ListPoliciesRequest()),
    (
        "admin",
        "PUT",
        "/agent/ops/policies/kill-switch",
        POLICY,
        "PutPolicy",
        pb.PutPolicyRequest(
            policy=pb.ApprovalPolicy(
                id="kill-switch",
                action_kind="flatten_position",
                risk=pb.RISK_HIGH,
                approvals_required=2,
                rejections_to_reject=1,
                role_requirements=[pb.RoleRequirement(role="compliance", count=1)],
                pending_ttl_s=3600,
                validity_s=600,
                compliance_relevant=True,
                escalation_policy_id="desk-pager",
                change_reason="a compliance eye on every flattening",
            )
        ),
    ),
    (
        "trader",
        "GET",
        "/agent/ops/escalation-policies",
        None,
        "ListEscalationPolicies",
        pb.ListEscalationPoliciesRequest(),
    ),
    (
        "admin",
        "PUT",
        "/agent/ops/escalation-policies/desk-pager",
        {
            "levels": [
                {"after_s": 300, "notify": ["slack-desk"]},
                {"after_s": 900, "assign_to": "dan", "assign_team": "ops leads"},
            ],
            "repeat_limit": 2,
            "remind_before_expiry_s": 600,
        },
        "PutEscalationPolicy",
        pb.PutEscalationPolicyRequest(
            policy=pb.EscalationPolicy(
                id="desk-pager",
                levels=[
                    pb.EscalationLevel(after_s=300, notify=["slack-desk"]),
                    pb.EscalationLevel(after_s=900, assign_to="dan", assign_team="ops leads"),
                ],
                repeat_limit=2,
                remind_before_expiry_s=600,
            )
        ),
    ),
    (
        "viewer",
        "GET",
        "/agent/ops/metrics?since=2026-03-01T09:30:00%2B01:00&until=2026-03-02T00:00:00Z",
        None,
        "GetMetrics",
        pb.GetMetricsRequest(
            since=stamp(datetime(2026, 3, 1, 8, 30, tzinfo=UTC)),
            until=stamp(datetime(2026, 3, 2, tzinfo=UTC)),
        ),
    ),
    ("viewer", "GET", "/agent/ops/metrics", None, "GetMetrics", pb.GetMetricsRequest()),
]


@pytest.mark.parametrize(
    ("role", "method", "url", "body", "rpc", "expected"),
    FORWARDED,
    ids=[f"{case[4]}-{i}" for i, case in enumerate(FORWARDED)],
)
async def test_each_ops_route_forwards_the_request_with_the_callers_token_and_a_deadline(
    gateway: Gateway, role: str, method: str, url: str, body: Any, rpc: str, expected: Message
) -> None:
    headers = gateway.auth(role)

    response = await gateway.client.request(method, url, json=body, headers=headers)

    assert response.status_code == 200, response.text
    assert assert_forwarded(gateway, rpc, headers) == expected


async def test_actions_are_filtered_by_state_kind_risk_and_assignee(gateway: Gateway) -> None:
    headers = gateway.auth("viewer")

    response = await gateway.client.get(
        "/agent/ops/actions",
        headers=headers,
        params={
            "state": "OUTCOME_UNKNOWN",
            "kind": "failover_market_data_feed",
            "risk": "CRITICAL",
            "assignee": "carol",
            "page_size": "20",
            "page_token": "abc",
        },
    )

    assert response.json() == {"actions": [], "next_page_token": ""}
    assert assert_forwarded(gateway, "ListActions", headers) == pb.ListActionsRequest(
        state=pb.ACTION_STATE_OUTCOME_UNKNOWN,
        kind="failover_market_data_feed",
        risk=pb.RISK_CRITICAL,
        assignee="carol",
        page=common_pb2.PageRequest(page_size=20, page_token="abc"),
    )


async def test_the_inbox_is_asked_for_with_awaiting_me_and_the_deadline_order(
    gateway: Gateway,
) -> None:
    headers = gateway.auth("compliance", subject="carl")

    response = await gateway.client.get(
        "/agent/ops/actions?awaiting_me=true&order=DEADLINE&page_size=20", headers=headers
    )

    assert response.status_code == 200, response.text
    assert assert_forwarded(gateway, "ListActions", headers) == pb.ListActionsRequest(
        awaiting_me=True,
        order=pb.ACTION_ORDER_DEADLINE,
        page=common_pb2.PageRequest(page_size=20),
    )


async def test_a_list_is_newest_first_and_everyone_s_unless_asked(gateway: Gateway) -> None:
    headers = gateway.auth("viewer")

    await gateway.client.get("/agent/ops/actions", headers=headers)

    forwarded = assert_forwarded(gateway, "ListActions", headers)
    assert isinstance(forwarded, pb.ListActionsRequest)
    assert (forwarded.awaiting_me, forwarded.order) == (False, pb.ACTION_ORDER_UNSPECIFIED)


async def test_an_unknown_order_is_refused_before_the_ops_service(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/agent/ops/actions?order=RISK", headers=gateway.auth("viewer")
    )

    assert response.status_code == 422
    assert gateway.recorder.calls == []


async def test_why_a_person_may_not_vote_reads_as_rest(gateway: Gateway) -> None:
    gateway.recorder.replies["ExplainVote"] = pb.VoteEligibility(
        id=ACTION_ID,
        may_reject=True,
        reason="needs compliance or admin",
        roles_needed=["compliance", "admin"],
        approve_refusal="otto's approval would not count",
    )

    response = await gateway.client.get(f"{ACTION}/eligibility", headers=gateway.auth("ops"))

    assert response.json() == {
        "id": ACTION_ID,
        "may_approve": False,
        "may_reject": True,
        "reason": "needs compliance or admin",
        "roles_needed": ["compliance", "admin"],
        "approve_refusal": "otto's approval would not count",
        "reject_refusal": "",
    }


async def test_a_cancelled_action_comes_back_with_its_reason(gateway: Gateway) -> None:
    gateway.recorder.replies["CancelAction"] = pb.Action(
        id=ACTION_ID, state=pb.ACTION_STATE_CANCELLED, cancel_reason="feed recovered"
    )

    response = await gateway.client.post(
        f"{ACTION}/cancel", json={"reason": "feed recovered"}, headers=gateway.auth("ops")
    )

    assert response.json()["state"] == "CANCELLED"
    assert response.json()["cancel_reason"] == "feed recovered"


async def test_a_comment_is_created_and_read_back_in_the_timeline(gateway: Gateway) -> None:
    entry = pb.TimelineEntry(
        id=7, action_id=ACTION_ID, kind="comment", actor="tom", text="checking the feed"
    )
    gateway.recorder.replies["AddComment"] = entry
    gateway.recorder.replies["GetTimeline"] = pb.Timeline(entries=[entry])
    headers = gateway.auth("trader", subject="tom")

    created = await gateway.client.post(
        f"{ACTION}/comments", json={"text": "checking the feed"}, headers=headers
    )

    assert created.status_code == 201
    assert created.json()["id"] == 7
    request = assert_forwarded(gateway, "AddComment", headers)
    assert request == pb.AddCommentRequest(id=ACTION_ID, text="checking the feed")
    gateway.recorder.calls.clear()
    timeline = await gateway.client.get(f"{ACTION}/timeline", headers=headers)
    assert [e["text"] for e in timeline.json()["entries"]] == ["checking the feed"]


async def test_metrics_come_back_with_counts_by_state_and_the_backlog(gateway: Gateway) -> None:
    gateway.recorder.replies["GetMetrics"] = pb.OpsMetrics(
        counts_by_state={"PENDING_APPROVAL": 3},
        mtta_s=42.5,
        backlog=[pb.AgeBucket(from_s=300, count=2)],
    )

    response = await gateway.client.get("/agent/ops/metrics", headers=gateway.auth("viewer"))

    body = response.json()
    assert body["counts_by_state"] == {"PENDING_APPROVAL": 3}
    assert body["mtta_s"] == 42.5
    assert body["backlog"] == [{"from_s": 300, "count": 2}]


async def test_a_policy_may_govern_any_kind_at_any_risk(gateway: Gateway) -> None:
    body = {
        "approvals_required": 1,
        "rejections_to_reject": 1,
        "pending_ttl_s": 14400,
        "validity_s": 3600,
        "change_reason": "baseline",
    }
    headers = gateway.auth("admin")

    response = await gateway.client.put("/agent/ops/policies/default", json=body, headers=headers)

    assert response.status_code == 200
    request = assert_forwarded(gateway, "PutPolicy", headers)
    assert isinstance(request, pb.PutPolicyRequest)
    assert (request.policy.action_kind, request.policy.risk) == ("*", pb.RISK_UNSPECIFIED)
    assert list(request.policy.role_requirements) == []
