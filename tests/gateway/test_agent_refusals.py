from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gateway.bodies.triage import MAX_BATCH, IncidentBatch
from tests.gateway.conftest import Gateway

DECISION = "/agent/triage/0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a004"
SOME_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a005"
INCIDENT = {"source": "oms", "kind": "pnl_break", "subject": "X"}
RULESET = {"document": {"version": 2}, "reason": "tighter"}
WINDOW = {"since": "2026-03-01T00:00:00Z"}

# (HTTP method, url, a valid body)
NEW_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/agent/triage/batch", {"incidents": [INCIDENT]}),
    ("POST", f"{DECISION}/replay", None),
    ("POST", f"{DECISION}/feedback", {"verdict": "agree"}),
    ("GET", "/agent/triage/metrics", None),
    ("PUT", "/agent/rulesets", RULESET),
    ("GET", "/agent/rulesets", None),
    ("GET", "/agent/rulesets/0", None),
    ("POST", f"/agent/remediation/{SOME_ID}/plan", None),
    ("GET", f"/agent/remediation/{SOME_ID}", None),
    ("GET", "/agent/executions", None),
    ("GET", "/agent/playbooks", None),
    ("POST", "/agent/compliance/run", None),
    ("GET", "/agent/compliance/checks", None),
    ("GET", "/agent/compliance/runs", None),
    ("GET", f"/agent/compliance/runs/{SOME_ID}", None),
    ("GET", "/agent/compliance/results", None),
    ("POST", "/agent/audit-summaries", WINDOW),
    ("GET", "/agent/audit-summaries", None),
    ("GET", f"/agent/audit-summaries/{SOME_ID}", None),
]


@pytest.mark.parametrize(("method", "url", "body"), NEW_ROUTES)
async def test_the_new_agent_routes_need_a_token(
    gateway: Gateway, method: str, url: str, body: Any
) -> None:
    response = await gateway.client.request(method, url, json=body)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert gateway.recorder.calls == []


@pytest.mark.parametrize(
    ("role", "method", "url", "body"),
    [
        ("viewer", "POST", "/agent/triage/batch", {"incidents": [INCIDENT]}),
        ("viewer", "POST", f"{DECISION}/feedback", {"verdict": "agree"}),
        ("compliance", "PUT", "/agent/rulesets", RULESET),
        ("ops", "PUT", "/agent/rulesets", RULESET),
        ("viewer", "POST", f"/agent/remediation/{SOME_ID}/plan", None),
        ("ops", "POST", "/agent/compliance/run", None),
        ("trader", "GET", "/agent/compliance/runs", None),
        ("viewer", "GET", "/agent/compliance/results", None),
        ("ops", "POST", "/agent/audit-summaries", WINDOW),
        ("ops", "GET", "/agent/audit-summaries", None),
        ("service", "GET", "/agent/playbooks", None),
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
    ("method", "url", "body", "bad_field"),
    [
        ("POST", "/incidents", {**INCIDENT, "venue": "X" * 65}, "body.venue"),
        ("POST", "/incidents", {**INCIDENT, "instrument": 7}, "body.instrument"),
        ("POST", "/agent/triage/batch", {"incidents": []}, "body.incidents"),
        ("POST", "/agent/triage/batch", {"incidents": [{"kind": "x"}]}, "body.incidents.0.source"),
        ("POST", "/agent/triage/batch", {"incidents": [INCIDENT], "dry": 1}, "body.dry"),
        ("POST", f"{DECISION}/feedback", {"verdict": "maybe"}, "body.verdict"),
        ("POST", f"{DECISION}/feedback", {"verdict": "override", "reason": "x"}, "body"),
        (
            "POST",
            f"{DECISION}/feedback",
            {"verdict": "override", "corrected_severity": "P1"},
            "body",
        ),
        (
            "POST",
            f"{DECISION}/feedback",
            {"verdict": "override", "corrected_severity": "P9", "reason": "x"},
            "body.corrected_severity",
        ),
        ("POST", f"{DECISION}/feedback", {"verdict": "agree", "corrected_severity": "P1"}, "body"),
        ("POST", "/agent/triage/not-a-uuid/replay", None, "path.decision_id"),
        ("GET", "/agent/triage/metrics?since=2026-03-01", None, "query.since"),
        (
            "GET",
            "/agent/triage/metrics?since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z",
            None,
            "query",
        ),
        ("PUT", "/agent/rulesets", {"document": [], "reason": "x"}, "body.document"),
        ("PUT", "/agent/rulesets", {"document": {}, "reason": "x"}, "body.document"),
        ("PUT", "/agent/rulesets", {"document": {"version": 2}, "reason": " "}, "body.reason"),
        ("PUT", "/agent/rulesets", {"document": {"version": 2}}, "body.reason"),
        ("GET", "/agent/rulesets/-1", None, "path.version"),
        ("GET", "/agent/rulesets/2147483648", None, "path.version"),
        ("GET", "/agent/executions?limit=501", None, "query.limit"),
        ("GET", "/agent/executions?action_id=nope", None, "query.action_id"),
        ("GET", "/agent/executions?state=x", None, "query.state"),
        ("POST", "/agent/compliance/run", {"check_ids": ["a b"]}, "body.check_ids.0"),
        ("POST", "/agent/compliance/run", {"checks": []}, "body.checks"),
        ("GET", "/agent/compliance/runs?limit=0", None, "query.limit"),
        ("GET", "/agent/compliance/runs/7", None, "path.run_id"),
        ("GET", "/agent/compliance/results?status=ok", None, "query.status"),
        ("GET", "/agent/compliance/results?page_size=0", None, "query.page_size"),
        ("GET", "/agent/compliance/results?page_size=501", None, "query.page_size"),
        ("GET", f"/agent/compliance/results?page_token={'t' * 1025}", None, "query.page_token"),
        ("GET", "/agent/compliance/results?page_size=5&limit=5", None, "query"),
        ("POST", "/agent/audit-summaries", {}, "body.since"),
        (
            "POST",
            "/agent/audit-summaries",
            {"since": "2026-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
            "body",
        ),
        (
            "POST",
            "/agent/audit-summaries",
            {"since": "2026-03-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
            "body",
        ),
        ("GET", "/agent/audit-summaries?limit=201", None, "query.limit"),
    ],
)
async def test_a_bad_agent_request_is_422_naming_the_field_and_no_service_is_called(
    gateway: Gateway, method: str, url: str, body: Any, bad_field: str
) -> None:
    response = await gateway.client.request(method, url, json=body, headers=gateway.auth("admin"))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert bad_field in [field["field"] for field in error["fields"]], error
    assert gateway.recorder.calls == []


@pytest.mark.parametrize(
    "content",
    [
        b'{"document": {"version": NaN}, "reason": "x"}',
        b'{"document": {"a": "\\u0000"}, "reason": "x"}',
        b'{"document": {"a": 9007199254740993}, "reason": "x"}',
        b'{"document": {"a": [[[[[[[[[1]]]]]]]]]}, "reason": "x"}',
    ],
    ids=["nan", "nul", "inexact-int", "too-deep"],
)
async def test_a_rule_document_a_service_could_not_store_is_422(
    gateway: Gateway, content: bytes
) -> None:
    headers = {**gateway.auth("admin"), "Content-Type": "application/json"}

    response = await gateway.client.put("/agent/rulesets", content=content, headers=headers)

    assert response.status_code == 422, response.text
    assert gateway.recorder.calls == []


def test_a_batch_holds_at_most_a_thousand_incidents() -> None:
    IncidentBatch.model_validate({"incidents": [INCIDENT] * MAX_BATCH})

    with pytest.raises(ValidationError, match="at most 1000"):
        IncidentBatch.model_validate({"incidents": [INCIDENT] * (MAX_BATCH + 1)})


async def test_the_openapi_document_gives_the_new_agent_routes_their_roles(
    gateway: Gateway,
) -> None:
    paths = (await gateway.client.get("/openapi.json")).json()["paths"]

    assert paths["/agent/rulesets"]["put"]["x-roles"] == ["admin"]
    batch = paths["/agent/triage/batch"]["post"]
    assert batch["x-roles"] == ["admin", "compliance", "ops", "trader"]
    assert paths["/agent/triage/metrics"]["get"]["x-roles"] == [
        "admin",
        "compliance",
        "ops",
        "trader",
        "viewer",
    ]
    assert paths["/agent/compliance/results"]["get"]["x-roles"] == ["admin", "compliance", "ops"]
    assert paths["/agent/audit-summaries"]["post"]["x-roles"] == ["admin", "compliance"]
    assert paths["/agent/compliance/run"]["post"]["security"] == [{"bearer": []}]
    results = paths["/agent/compliance/results"]["get"]["parameters"]
    assert {p["name"] for p in results} == {
        "check_id",
        "status",
        "page_size",
        "page_token",
        "limit",
    }
