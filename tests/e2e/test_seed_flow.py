"""The seed's data flow through real processes: REST -> gateway -> agent -> ops -> audit."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg

from runtime.stack import Stack
from services.export.service.verification.directory import verify_directory
from tests.e2e.conftest import eventually

Headers = Callable[..., dict[str, str]]

LATENCY_INCIDENT = {
    "source": "md-gateway-ny4",
    "kind": "market_data_latency",
    "desk": "equities",
    "subject": "XNAS-ITCH",
    "summary": "ITCH feed latency above 800 ms",
    "metrics": {"latency_ms": 850.0},
}


def triaged_action(api: httpx.Client, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
    incident = api.post("/incidents", json=LATENCY_INCIDENT, headers=headers)
    assert incident.status_code == 201, incident.text
    decision = api.post(
        "/agent/triage", json={"incident_id": incident.json()["id"]}, headers=headers
    )
    assert decision.status_code == 201, decision.text
    return incident.json()["id"], decision.json()


def records_for(api: httpx.Client, headers: dict[str, str], target: str) -> list[dict[str, Any]]:
    page = api.get(
        "/audit/records", params={"after_seq": -1, "limit": 500, "target": target}, headers=headers
    )
    assert page.status_code == 200, page.text
    return list(page.json().get("records", []))


def test_an_incident_is_triaged_and_its_action_approved_by_a_second_user(
    api: httpx.Client, auth_header: Headers, stack: Stack
) -> None:
    olga, bob = auth_header("olga", "ops"), auth_header("bob", "ops")
    incident_id, decision = triaged_action(api, olga)
    assert decision["severity"] == "P2"
    assert len(decision["input_sha256"]) == 64
    assert re.fullmatch(r"\d+\+[0-9a-f]{12}", decision["logic_version"])
    action_id = decision["action_id"]

    action = api.get(f"/agent/ops/actions/{action_id}", headers=auth_header("vera", "viewer"))
    assert action.status_code == 200
    assert action.json()["state"] == "PENDING_APPROVAL"
    assert action.json()["requested_by"] == "olga"

    own = api.post(f"/agent/ops/actions/{action_id}/approve", json={}, headers=olga)
    assert own.status_code == 403
    assert "own" in own.json()["error"]["message"]

    approved = api.post(
        f"/agent/ops/actions/{action_id}/approve", json={"comment": "ok"}, headers=bob
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "APPROVED"

    actions = eventually(
        lambda: [
            r["event"]["action"]
            for r in records_for(api, bob, f"action/{action_id}")
            if r["event"]["action"] == "ops.action.approved"
        ],
        what="the approval in the audit log",
    )
    assert actions == ["ops.action.approved"]
    assert records_for(api, bob, f"incident/{incident_id}")


def test_compliance_verifies_the_chain_and_exports_it(
    api: httpx.Client, auth_header: Headers, stack: Stack
) -> None:
    triaged_action(api, auth_header("tom", "trader"))
    compliance = auth_header("carol", "compliance")
    verdict = api.post("/audit/verify", headers=compliance)
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["ok"] is True

    export = api.post(
        "/exports", json={"kind": "audit_extract", "from_seq": 0, "to_seq": -1}, headers=compliance
    )
    assert export.status_code == 201, export.text
    body = export.json()
    assert body["state"] == "SIGNED"
    directory = Path(stack.env["TRADEOPS_EXPORT_DIR"]) / body["directory"]
    assert verify_directory(directory, (directory / "key.pub.pem").read_bytes()) == []
    path = directory / body["file_name"]
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == body["sha256"]
    lines = data.decode().splitlines()
    assert len(lines) == body["record_count"] > 0
    assert [int(json.loads(line)["seq"]) for line in lines] == list(range(len(lines)))

    shown = api.get(f"/exports/{body['id']}", headers=compliance)
    assert shown.status_code == 200
    assert shown.json()["sha256"] == body["sha256"]


def test_rest_refuses_missing_tokens_with_401_and_wrong_roles_with_403(
    api: httpx.Client, auth_header: Headers
) -> None:
    assert api.post("/incidents", json=LATENCY_INCIDENT).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert api.get("/audit/records", headers=bad).status_code == 401
    viewer = auth_header("vera", "viewer")
    assert api.post("/incidents", json=LATENCY_INCIDENT, headers=viewer).status_code == 403
    trader = auth_header("tom", "trader")
    assert api.post("/audit/verify", headers=trader).status_code == 403
    assert api.post("/exports", json={"kind": "audit_extract"}, headers=trader).status_code == 403


def test_bad_input_gets_a_clear_4xx_and_writes_nothing(
    api: httpx.Client, auth_header: Headers, admin_sql: psycopg.Connection[Any]
) -> None:
    trader = auth_header("tom", "trader")
    before = admin_sql.execute("SELECT count(*) FROM agent.incidents").fetchone()
    cases = [
        api.post(
            "/incidents",
            content=b'{"kind": ',
            headers={**trader, "Content-Type": "application/json"},
        ),
        api.post(
            "/incidents",
            json={**LATENCY_INCIDENT, "metrics": {"latency_ms": "fast"}},
            headers=trader,
        ),
        api.post("/incidents", json={**LATENCY_INCIDENT, "kind": "volcano"}, headers=trader),
        api.post("/incidents", json={**LATENCY_INCIDENT, "summary": "x" * 200_000}, headers=trader),
        api.post(
            "/agent/triage",
            json={"incident_id": "00000000-0000-4000-8000-000000000000"},
            headers=trader,
        ),
        api.get("/agent/ops/actions/not-a-uuid", headers=trader),
    ]
    statuses = [c.status_code for c in cases]
    assert all(400 <= s < 500 for s in statuses), statuses
    assert statuses[3] == 413
    assert statuses[4] == 404
    assert all(c.json()["error"]["message"] for c in cases)
    after = admin_sql.execute("SELECT count(*) FROM agent.incidents").fetchone()
    assert before == after
