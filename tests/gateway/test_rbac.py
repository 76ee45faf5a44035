from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import APIRouter, Depends

from gateway.rbac import PUBLIC, RBAC, authorize
from runtime.auth import ROLES
from tests.gateway.conftest import Gateway

SOME_ID = "6a1c1b8e-0000-4000-8000-000000000001"
# Path parameters that are not ids; any other {name} gets SOME_ID.
PATH_VALUES = {"seq": "3", "tree_size": "7", "policy_id": "kill-switch", "version": "0"}
ACTION = "/agent/ops/actions/{action_id}"
POLICY = {
    "approvals_required": 2,
    "rejections_to_reject": 1,
    "pending_ttl_s": 3600,
    "validity_s": 600,
    "change_reason": "two eyes",
}

PROBE = {
    "name": "md-latency",
    "url": "http://127.0.0.1:9/health",
    "reading": {"type": "json", "path": "$.lag_ms"},
    "rule": {"type": "threshold", "op": ">", "value": 500},
    "interval_s": 30,
    "timeout_s": 2,
    "incident": {"kind": "market_data_latency", "subject": "XNAS-ITCH", "summary": "lag"},
}
TRIGGER = {
    "name": "kill-switch-evidence",
    "match": {"action": "ops.action.executed"},
    "step": {"kind": "create_export", "parameters": {"kind": "evidence_pack"}},
    "reason": "evidence",
}
SCHEDULE = {"name": "daily", "cron": "0 6 * * *", "kind": "audit_extract"}

# A valid body for every route that takes one.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/incidents"): {"source": "md-gateway-ny4", "kind": "stale_price", "subject": "X"},
    ("POST", "/agent/triage"): {"incident_id": SOME_ID},
    ("POST", "/agent/triage/batch"): {
        "incidents": [{"source": "oms", "kind": "pnl_break", "subject": "X"}]
    },
    ("POST", "/agent/triage/{decision_id}/feedback"): {"verdict": "agree"},
    ("PUT", "/agent/rulesets"): {"document": {"version": 2}, "reason": "tighter"},
    ("POST", "/agent/audit-summaries"): {"since": "2026-03-01T00:00:00Z"},
    ("POST", "/exports"): {"kind": "audit_extract"},
    ("POST", "/exports/verify"): {"ids": [SOME_ID]},
    ("POST", "/exports/schedules"): SCHEDULE,
    ("PUT", "/exports/schedules/{schedule_id}"): SCHEDULE,
    ("POST", "/audit/records/{seq}/redact"): {"reason": "erasure request"},
    ("POST", f"{ACTION}/cancel"): {"reason": "resolved"},
    ("PUT", f"{ACTION}/parameters"): {"parameters": {"feed": "X"}, "reason": "wrong feed"},
    ("POST", f"{ACTION}/assign"): {},
    ("POST", f"{ACTION}/escalate"): {"reason": "nobody answers"},
    ("POST", f"{ACTION}/comments"): {"text": "looking"},
    ("POST", f"{ACTION}/execution"): {"executor": "webhook:desk-oms"},
    ("POST", f"{ACTION}/execution/result"): {"outcome": "EXECUTED"},
    ("PUT", "/agent/ops/policies/{policy_id}"): POLICY,
    ("PUT", "/agent/ops/escalation-policies/{policy_id}"): {"levels": [{"after_s": 300}]},
    ("POST", "/probes"): PROBE,
    ("PUT", "/probes/{probe_id}"): PROBE,
    ("POST", "/triggers"): TRIGGER,
    ("PUT", "/triggers/{trigger_id}"): TRIGGER,
    ("POST", "/triggers/{trigger_id}/disable"): {"reason": "noisy"},
}
# The required query parameters of every route that has some.
QUERIES: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/audit/proofs/inclusion"): {"seq": 3},
    ("GET", "/audit/proofs/consistency"): {"first_size": 1},
}


def concrete(path: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda name: PATH_VALUES.get(name[1], SOME_ID), path)


async def call(gateway: Gateway, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    """The route called as the matrix calls it: its template filled in, with a valid query
    and body where it takes them."""
    return await gateway.client.request(
        method,
        concrete(path),
        params=QUERIES.get((method, path)),
        json=BODIES.get((method, path)),
        headers=headers,
    )


def openapi_routes(gateway: Gateway) -> set[tuple[str, str]]:
    paths = gateway.app.openapi()["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item}


async def test_a_viewer_cannot_approve_an_action(gateway: Gateway) -> None:
    response = await gateway.client.post(
        f"/agent/ops/actions/{SOME_ID}/approve", headers=gateway.auth("viewer")
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert gateway.recorder.calls == []


async def test_a_trader_cannot_create_an_export(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/exports", json={"kind": "audit_extract"}, headers=gateway.auth("trader")
    )

    assert response.status_code == 403
    assert "POST /exports" in response.json()["error"]["message"]
    assert gateway.recorder.calls == []


async def test_a_service_token_is_not_a_person_and_may_call_nothing(gateway: Gateway) -> None:
    response = await gateway.client.get("/incidents", headers=gateway.auth("service"))

    assert response.status_code == 403


def test_every_openapi_route_has_exactly_one_rbac_entry_except_the_probes(
    gateway: Gateway,
) -> None:
    routes = openapi_routes(gateway)

    assert routes - PUBLIC == set(RBAC)
    assert routes >= PUBLIC


async def test_every_role_gets_what_the_table_says_on_every_route(gateway: Gateway) -> None:
    outcomes = []
    for method, path in sorted(openapi_routes(gateway) - PUBLIC):
        for role in ROLES:
            response = await call(gateway, method, path, gateway.auth(role))
            allowed = role in RBAC[(method, path)]
            assert response.status_code < 300 if allowed else response.status_code == 403, (
                method,
                path,
                role,
                response.text,
            )
            outcomes.append(allowed)
    assert True in outcomes
    assert False in outcomes


async def test_a_route_missing_from_the_table_is_refused_to_everyone(gateway: Gateway) -> None:
    extra = APIRouter()

    @extra.get("/not-in-the-table")
    async def unlisted() -> dict[str, str]:
        return {"reached": "yes"}

    gateway.app.include_router(extra, dependencies=[Depends(authorize)])

    response = await gateway.client.get("/not-in-the-table", headers=gateway.auth(*ROLES))

    assert response.status_code == 403
