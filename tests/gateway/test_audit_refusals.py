from __future__ import annotations

from typing import Any

import grpc
import pytest

from tests.gateway.conftest import Gateway

MAX_INT64 = 2**63 - 1
REASON = {"reason": "erasure request #1234"}

NEW_ROUTES = [
    ("GET", "/audit/proofs/inclusion?seq=3"),
    ("GET", "/audit/proofs/consistency?first_size=1"),
    ("GET", "/audit/checkpoints/latest"),
    ("GET", "/audit/checkpoints/latest.txt"),
    ("GET", "/audit/checkpoints/7"),
    ("GET", "/audit/keys"),
    ("POST", "/audit/records/3/redact"),
]


@pytest.mark.parametrize(("method", "url"), NEW_ROUTES)
async def test_the_new_audit_routes_need_a_token(gateway: Gateway, method: str, url: str) -> None:
    response = await gateway.client.request(method, url, json=REASON if method == "POST" else None)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert gateway.recorder.calls == []


@pytest.mark.parametrize("role", ["viewer", "trader", "ops"])
async def test_only_compliance_and_admin_may_redact(gateway: Gateway, role: str) -> None:
    response = await gateway.client.post(
        "/audit/records/3/redact", json=REASON, headers=gateway.auth(role)
    )

    assert response.status_code == 403
    assert "POST /audit/records/{seq}/redact" in response.json()["error"]["message"]
    assert gateway.recorder.calls == []


@pytest.mark.parametrize("url", ["/audit/checkpoints/latest", "/audit/checkpoints/latest.txt"])
async def test_no_checkpoint_yet_is_a_json_404(gateway: Gateway, url: str) -> None:
    gateway.recorder.failures["GetCheckpoint"] = (grpc.StatusCode.NOT_FOUND, "no checkpoint yet")

    response = await gateway.client.get(url, headers=gateway.auth("viewer"))

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "NOT_FOUND", "message": "no checkpoint yet"}}


@pytest.mark.parametrize(
    ("url", "bad_field"),
    [
        ("/audit/records?since=2026-03-01T09:30:00", "query.since"),
        ("/audit/records?since=2026-03-01", "query.since"),
        ("/audit/records?since=1767225600", "query.since"),
        ("/audit/records?since=2026-03-01T09:30:00+01:00", "query.since"),  # + decodes to space
        ("/audit/records?until=0001-01-01T00:00:00%2B01:00", "query.until"),
        ("/audit/records?since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", "query"),
        ("/audit/records?outcome=maybe", "query.outcome"),
        ("/audit/records?after_seq=-2", "query.after_seq"),
        (f"/audit/records?after_seq={MAX_INT64 + 1}", "query.after_seq"),
        ("/audit/records?actor=" + "x" * 257, "query.actor"),
        ("/audit/records?verbose=1", "query.verbose"),
        ("/audit/proofs/inclusion?seq=-1", "query.seq"),
        ("/audit/proofs/inclusion", "query.seq"),
        (f"/audit/proofs/inclusion?seq={MAX_INT64 + 1}", "query.seq"),
        ("/audit/proofs/inclusion?seq=8&tree_size=8", "query"),
        ("/audit/proofs/inclusion?seq=1&tree_size=-1", "query.tree_size"),
        ("/audit/proofs/consistency?first_size=9&second_size=8", "query"),
        ("/audit/proofs/consistency?first_size=x", "query.first_size"),
        ("/audit/checkpoints/0", "path.tree_size"),
        ("/audit/checkpoints/-1", "path.tree_size"),
        (f"/audit/checkpoints/{MAX_INT64 + 1}", "path.tree_size"),
        ("/audit/checkpoints/latest.json", "path.tree_size"),
    ],
)
async def test_a_bad_audit_query_is_422_naming_it_and_no_service_is_called(
    gateway: Gateway, url: str, bad_field: str
) -> None:
    response = await gateway.client.get(url, headers=gateway.auth("viewer"))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert bad_field in [field["field"] for field in error["fields"]]
    assert gateway.recorder.calls == []


@pytest.mark.parametrize(
    ("seq", "body", "bad_field"),
    [
        ("-1", REASON, "path.seq"),
        (str(MAX_INT64 + 1), REASON, "path.seq"),
        ("3", {"reason": ""}, "body.reason"),
        ("3", {"reason": "   "}, "body.reason"),
        ("3", {"reason": "x" * 501}, "body.reason"),
        ("3", {"reason": 7}, "body.reason"),
        ("3", {**REASON, "purge": True}, "body.purge"),
        ("3", None, "body"),
    ],
)
async def test_a_bad_redaction_is_422_and_no_service_is_called(
    gateway: Gateway, seq: str, body: Any, bad_field: str
) -> None:
    response = await gateway.client.post(
        f"/audit/records/{seq}/redact", json=body, headers=gateway.auth("admin")
    )

    assert response.status_code == 422, response.text
    assert bad_field in [field["field"] for field in response.json()["error"]["fields"]]
    assert gateway.recorder.calls == []


async def test_the_openapi_document_gives_the_new_routes_their_roles(gateway: Gateway) -> None:
    paths = (await gateway.client.get("/openapi.json")).json()["paths"]

    redact = paths["/audit/records/{seq}/redact"]["post"]
    assert redact["x-roles"] == ["admin", "compliance"]
    assert redact["description"].startswith("Roles: admin, compliance.\n\nRemoves")
    assert paths["/audit/keys"]["get"]["x-roles"] == [
        "admin",
        "compliance",
        "ops",
        "trader",
        "viewer",
    ]
    note = paths["/audit/checkpoints/latest.txt"]["get"]["responses"]["200"]["content"]
    assert list(note) == ["text/plain"]
    inclusion = paths["/audit/proofs/inclusion"]["get"]["parameters"]
    assert {(p["name"], p["required"]) for p in inclusion} == {("seq", True), ("tree_size", False)}
