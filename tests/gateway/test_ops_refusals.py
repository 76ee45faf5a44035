from __future__ import annotations

from typing import Any

import grpc
import pytest

from tests.gateway.conftest import Gateway

ACTION = "/agent/ops/actions/0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a002"
POLICY = {
    "approvals_required": 2,
    "rejections_to_reject": 1,
    "pending_ttl_s": 3600,
    "validity_s": 600,
    "change_reason": "two eyes",
}
ESCALATION = {"levels": [{"after_s": 300}]}

# (HTTP method, url, a valid body)
NEW_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", f"{ACTION}/cancel", {"reason": "resolved"}),
    ("PUT", f"{ACTION}/parameters", {"parameters": {}, "reason": "clear"}),
    ("POST", f"{ACTION}/assign", {}),
    ("POST", f"{ACTION}/acknowledge", {}),
    ("POST", f"{ACTION}/escalate", {"reason": "nobody answers"}),
    ("POST", f"{ACTION}/comments", {"text": "looking"}),
    ("GET", f"{ACTION}/timeline", None),
    ("POST", f"{ACTION}/execution", {"executor": "webhook:desk-oms"}),
    ("POST", f"{ACTION}/execution/result", {"outcome": "FAILED", "detail": "rejected by OMS"}),
    ("GET", "/agent/ops/policies", None),
    ("PUT", "/agent/ops/policies/default", POLICY),
    ("GET", "/agent/ops/escalation-policies", None),
    ("PUT", "/agent/ops/escalation-policies/desk-pager", ESCALATION),
    ("GET", "/agent/ops/metrics", None),
]


@pytest.mark.parametrize(("method", "url", "body"), NEW_ROUTES)
async def test_the_new_ops_routes_need_a_token(
    gateway: Gateway, method: str, url: str, body: Any
) -> None:
    response = await gateway.client.request(method, url, json=body)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert gateway.recorder.calls == []


@pytest.mark.parametrize(("method", "url", "body"), NEW_ROUTES)
async def test_a_service_token_may_call_none_of_the_new_ops_routes(
    gateway: Gateway, method: str, url: str, body: Any
) -> None:
    response = await gateway.client.request(
        method, url, json=body, headers=gateway.auth("service", subject="svc:agent")
    )

    assert response.status_code == 403
    assert gateway.recorder.calls == []


@pytest.mark.parametrize(
    ("role", "method", "url", "body"),
    [
        ("viewer", "POST", f"{ACTION}/cancel", {"reason": "resolved"}),
        ("trader", "PUT", f"{ACTION}/parameters", {"parameters": {}, "reason": "clear"}),
        ("compliance", "PUT", f"{ACTION}/parameters", {"parameters": {}, "reason": "clear"}),
        ("trader", "POST", f"{ACTION}/assign", {}),
        ("viewer", "POST", f"{ACTION}/acknowledge", {}),
        ("trader", "POST", f"{ACTION}/escalate", {"reason": "nobody answers"}),
        ("viewer", "POST", f"{ACTION}/comments", {"text": "looking"}),
        ("compliance", "POST", f"{ACTION}/execution", {"executor": "webhook:desk-oms"}),
        ("trader", "POST", f"{ACTION}/execution/result", {"outcome": "EXECUTED"}),
        ("ops", "PUT", "/agent/ops/policies/default", POLICY),
        ("compliance", "PUT", "/agent/ops/policies/default", POLICY),
        ("ops", "PUT", "/agent/ops/escalation-policies/desk-pager", ESCALATION),
    ],
)
async def test_a_role_outside_the_table_is_403_and_no_service_is_called(
    gateway: Gateway, role: str, method: str, url: str, body: Any
) -> None:
    response = await gateway.client.request(method, url, json=body, headers=gateway.auth(role))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert gateway.recorder.calls == []


@pytest.mark.parametrize(
    ("rpc", "method", "url", "body"),
    [
        ("CancelAction", "POST", f"{ACTION}/cancel", {"reason": "resolved"}),
        ("UpdateParameters", "PUT", f"{ACTION}/parameters", {"parameters": {}, "reason": "x"}),
        ("AssignAction", "POST", f"{ACTION}/assign", {}),
        ("EscalateAction", "POST", f"{ACTION}/escalate", {"reason": "nobody answers"}),
        ("StartExecution", "POST", f"{ACTION}/execution", {"executor": "webhook:desk-oms"}),
        ("RecordExecutionResult", "POST", f"{ACTION}/execution/result", {"outcome": "EXECUTED"}),
    ],
)
async def test_a_failed_precondition_is_409_with_the_services_reason(
    gateway: Gateway, rpc: str, method: str, url: str, body: Any
) -> None:
    reason = "action is EXECUTED; only pending can change"
    gateway.recorder.failures[rpc] = (grpc.StatusCode.FAILED_PRECONDITION, reason)

    response = await gateway.client.request(method, url, json=body, headers=gateway.auth("admin"))

    assert response.status_code == 409
    assert response.json() == {"error": {"code": "FAILED_PRECONDITION", "message": reason}}


DEEP: Any = "leaf"
for _ in range(9):
    DEEP = {"x": DEEP}


@pytest.mark.parametrize(
    ("method", "url", "body", "bad_field"),
    [
        ("POST", f"{ACTION}/cancel", {}, "body.reason"),
        ("POST", f"{ACTION}/cancel", {"reason": "  "}, "body.reason"),
        ("POST", f"{ACTION}/cancel", {"reason": "x" * 1001}, "body.reason"),
        ("POST", f"{ACTION}/cancel", None, "body"),
        ("POST", "/agent/ops/actions/not-an-id/cancel", {"reason": "x"}, "path.action_id"),
        ("PUT", f"{ACTION}/parameters", {"parameters": [], "reason": "x"}, "body.parameters"),
        ("PUT", f"{ACTION}/parameters", {"parameters": DEEP, "reason": "x"}, "body.parameters"),
        ("PUT", f"{ACTION}/parameters", {"parameters": {"a": 1}}, "body.reason"),
        ("POST", f"{ACTION}/assign", {"assignee": 7}, "body.assignee"),
        ("POST", f"{ACTION}/assign", {"assignee": " carol"}, "body.assignee"),
        ("POST", f"{ACTION}/assign", {"user": "carol"}, "body.user"),
        ("POST", f"{ACTION}/acknowledge", {"at": "now"}, "body.at"),
        ("POST", f"{ACTION}/escalate", {"reason": ""}, "body.reason"),
        ("POST", f"{ACTION}/comments", {"text": ""}, "body.text"),
        ("POST", f"{ACTION}/comments", {"text": "x" * 4001}, "body.text"),
        ("POST", f"{ACTION}/comments", {"text": "\n\t "}, "body.text"),
        ("POST", f"{ACTION}/execution", {"executor": "desk oms"}, "body.executor"),
        ("POST", f"{ACTION}/execution/result", {"outcome": "APPROVED"}, "body.outcome"),
        ("POST", f"{ACTION}/execution/result", {"outcome": 7}, "body.outcome"),
        ("PUT", "/agent/ops/policies/default", {**POLICY, "version": 3}, "body.version"),
        ("PUT", "/agent/ops/policies/default", {**POLICY, "id": "other"}, "body.id"),
        ("PUT", "/agent/ops/policies/default", {**POLICY, "changed_by": "eve"}, "body.changed_by"),
        (
            "PUT",
            "/agent/ops/policies/default",
            {**POLICY, "change_reason": ""},
            "body.change_reason",
        ),
        ("PUT", "/agent/ops/policies/default", {**POLICY, "risk": "high"}, "body.risk"),
        ("PUT", "/agent/ops/policies/default", {**POLICY, "risk": "RISK_HIGH"}, "body.risk"),
        (
            "PUT",
            "/agent/ops/policies/default",
            {**POLICY, "approvals_required": 0},
            "body.approvals_required",
        ),
        (
            "PUT",
            "/agent/ops/policies/default",
            {**POLICY, "pending_ttl_s": 10**12},
            "body.pending_ttl_s",
        ),
        ("PUT", "/agent/ops/policies/default", {**POLICY, "validity_s": "600"}, "body.validity_s"),
        (
            "PUT",
            "/agent/ops/policies/default",
            {**POLICY, "role_requirements": [{"role": "trader", "count": 1}]},
            "body.role_requirements.0.role",
        ),
        (
            "PUT",
            "/agent/ops/policies/default",
            {**POLICY, "role_requirements": [{"role": "ops", "count": 1}] * 2},
            "body.role_requirements",
        ),
        ("PUT", "/agent/ops/policies/a%20b", POLICY, "path.policy_id"),
        ("PUT", "/agent/ops/policies/" + "p" * 65, POLICY, "path.policy_id"),
        ("PUT", "/agent/ops/escalation-policies/desk-pager", {"levels": []}, "body.levels"),
        (
            "PUT",
            "/agent/ops/escalation-policies/desk-pager",
            {"levels": [{"after_s": 0}]},
            "body.levels.0.after_s",
        ),
        (
            "PUT",
            "/agent/ops/escalation-policies/desk-pager",
            {**ESCALATION, "repeat_limit": 101},
            "body.repeat_limit",
        ),
        ("GET", "/agent/ops/actions?state=open", None, "query.state"),
        ("GET", "/agent/ops/actions?risk=high", None, "query.risk"),
        ("GET", "/agent/ops/actions?state=ACTION_STATE_APPROVED", None, "query.state"),
        ("GET", "/agent/ops/actions?page_size=501", None, "query.page_size"),
        ("GET", "/agent/ops/actions?sort=age", None, "query.sort"),
        ("GET", "/agent/ops/policies?include_history=maybe", None, "query.include_history"),
        ("GET", "/agent/ops/metrics?since=2026-03-01", None, "query.since"),
        ("GET", "/agent/ops/metrics?until=2026-03-01T00:00:00", None, "query.until"),
        (
            "GET",
            "/agent/ops/metrics?since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z",
            None,
            "query",
        ),
    ],
)
async def test_a_bad_ops_request_is_422_naming_the_field_and_no_service_is_called(
    gateway: Gateway, method: str, url: str, body: Any, bad_field: str
) -> None:
    response = await gateway.client.request(method, url, json=body, headers=gateway.auth("admin"))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert bad_field in [field["field"] for field in error["fields"]]
    assert gateway.recorder.calls == []


async def test_the_openapi_document_gives_the_new_ops_routes_their_roles(
    gateway: Gateway,
) -> None:
    paths = (await gateway.client.get("/openapi.json")).json()["paths"]

    assert paths["/agent/ops/policies/{policy_id}"]["put"]["x-roles"] == ["admin"]
    cancel = paths["/agent/ops/actions/{action_id}/cancel"]["post"]
    assert cancel["x-roles"] == ["admin", "compliance", "ops", "trader"]
    execution = paths["/agent/ops/actions/{action_id}/execution/result"]["post"]
    assert execution["x-roles"] == ["admin", "ops"]
    assert "201" in paths["/agent/ops/actions/{action_id}/comments"]["post"]["responses"]
    listing = paths["/agent/ops/actions"]["get"]["parameters"]
    assert {p["name"] for p in listing} == {
        "state",
        "kind",
        "risk",
        "assignee",
        "page_size",
        "page_token",
        "awaiting_me",
        "order",
    }
    eligibility = paths["/agent/ops/actions/{action_id}/eligibility"]["get"]
    assert eligibility["x-roles"] == ["admin", "compliance", "ops", "trader", "viewer"]


@pytest.mark.parametrize(
    ("url", "content"),
    [
        (f"{ACTION}/parameters", b'{"parameters": {"a": NaN}, "reason": "x"}'),
        (f"{ACTION}/parameters", b'{"parameters": {"a": [Infinity]}, "reason": "x"}'),
        (f"{ACTION}/parameters", b'{"parameters": {"a": 1' + b"0" * 400 + b'}, "reason": "x"}'),
        (f"{ACTION}/parameters", b'{"parameters": {"a": 9007199254740993}, "reason": "x"}'),
        (f"{ACTION}/parameters", b'{"parameters": {"\\ud800": 1}, "reason": "x"}'),
        (f"{ACTION}/parameters", b'{"parameters": {"a": "b\\u0000"}, "reason": "x"}'),
        (f"{ACTION}/comments", b'{"text": "\\udfff"}'),
        (f"{ACTION}/comments", b'{"text": "a\\u0000b"}'),
    ],
    ids=["nan", "infinity", "huge-int", "inexact-int", "surrogate-key", "nul", "surrogate", "nul"],
)
async def test_values_a_service_could_not_carry_or_store_are_422(
    gateway: Gateway, url: str, content: bytes
) -> None:
    method = "PUT" if url.endswith("parameters") else "POST"
    headers = {**gateway.auth("admin"), "Content-Type": "application/json"}

    response = await gateway.client.request(method, url, content=content, headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "INVALID_ARGUMENT"
    assert gateway.recorder.calls == []


async def test_a_nul_in_a_filter_is_422(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/agent/ops/actions?kind=flatten%00", headers=gateway.auth("viewer")
    )

    assert response.status_code == 422
    assert gateway.recorder.calls == []
