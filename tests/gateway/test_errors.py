from __future__ import annotations

from typing import Any

import grpc
import pytest

from tests.gateway.conftest import MAX_BODY_BYTES, Gateway

ACTION_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a002"
APPROVE = f"/agent/ops/actions/{ACTION_ID}/approve"
GOOD_INCIDENT = {"source": "md-gateway-ny4", "kind": "stale_price", "subject": "XNAS-ITCH"}


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.FAILED_PRECONDITION, 409),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.INVALID_ARGUMENT, 422),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
    ],
)
async def test_a_service_refusal_becomes_the_matching_http_status_with_its_reason(
    gateway: Gateway, code: grpc.StatusCode, status: int
) -> None:
    gateway.recorder.failures["ApproveAction"] = (code, "action is not pending")

    response = await gateway.client.post(APPROVE, headers=gateway.auth("ops"))

    assert response.status_code == status
    assert response.json() == {"error": {"code": code.name, "message": "action is not pending"}}


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.INTERNAL, 502),
        (grpc.StatusCode.UNKNOWN, 502),
    ],
)
async def test_a_service_failure_is_a_5xx_that_hides_the_internals(
    gateway: Gateway, code: grpc.StatusCode, status: int
) -> None:
    gateway.recorder.failures["GetAction"] = (code, "db at 10.0.0.7:5432 refused")

    response = await gateway.client.get(
        f"/agent/ops/actions/{ACTION_ID}", headers=gateway.auth("viewer")
    )

    assert response.status_code == status
    assert response.json()["error"]["code"] == code.name
    assert "10.0.0.7" not in response.text


async def test_a_peer_that_is_down_gives_503_with_a_json_error(gateway: Gateway) -> None:
    await gateway.fakes["ops"].stop(0)

    response = await gateway.client.post(APPROVE, headers=gateway.auth("ops"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "UNAVAILABLE"
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "bad_field"),
    [
        ({**GOOD_INCIDENT, "metrics": {"latency_ms": "high"}}, "body.metrics.latency_ms"),
        ({**GOOD_INCIDENT, "metrics": {"latency_ms": True}}, "body.metrics.latency_ms"),
        ({**GOOD_INCIDENT, "subject": 42}, "body.subject"),
        ({**GOOD_INCIDENT, "observed_at": 1767225600}, "body.observed_at"),
        ({**GOOD_INCIDENT, "observed_at": "2026-01-01T00:00:00"}, "body.observed_at"),
        ({**GOOD_INCIDENT, "observed_at": "2026-01-01T00:00Z"}, "body.observed_at"),
        ({**GOOD_INCIDENT, "observed_at": "0001-01-01T00:00:00+01:00"}, "body.observed_at"),
        ({**GOOD_INCIDENT, "priority": "P1"}, "body.priority"),
        ({**GOOD_INCIDENT, "subject": "x" * 257}, "body.subject"),
        ({"source": "md-gateway-ny4", "kind": "stale_price"}, "body.subject"),
        ([GOOD_INCIDENT], "body"),
    ],
    ids=[
        "string-metric",
        "bool-metric",
        "int-subject",
        "numeric-time",
        "naive-time",
        "time-without-seconds",
        "time-before-year-1-in-utc",
        "unknown-field",
        "too-long",
        "missing-field",
        "array",
    ],
)
async def test_a_bad_body_is_422_naming_the_field_and_no_service_is_called(
    gateway: Gateway, body: Any, bad_field: str
) -> None:
    response = await gateway.client.post("/incidents", json=body, headers=gateway.auth("trader"))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert bad_field in [field["field"] for field in error["fields"]]
    assert bad_field in error["message"]
    assert gateway.recorder.calls == []


async def test_malformed_json_is_422_and_no_service_is_called(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/incidents",
        content=b'{"source": "md-gateway-ny4", ',
        headers={**gateway.auth("trader"), "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert "malformed JSON" in response.json()["error"]["message"]
    assert gateway.recorder.calls == []


@pytest.mark.parametrize(
    "url",
    [
        "/incidents/not-a-uuid",
        "/incidents?limit=0",
        "/incidents?limit=501",
        "/audit/records?after_seq=-2",
        f"/audit/records?after_seq={2**63}",
        "/agent/ops/actions?state=deleted",
    ],
)
async def test_a_bad_path_or_query_is_422_and_no_service_is_called(
    gateway: Gateway, url: str
) -> None:
    response = await gateway.client.get(url, headers=gateway.auth("viewer"))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INVALID_ARGUMENT"
    assert gateway.recorder.calls == []


async def test_an_export_range_that_ends_before_it_starts_is_422(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/exports",
        json={"kind": "audit_extract", "from_seq": 10, "to_seq": 3},
        headers=gateway.auth("compliance"),
    )

    assert response.status_code == 422
    assert gateway.recorder.calls == []


async def test_a_declared_oversized_body_is_413(gateway: Gateway) -> None:
    body = {**GOOD_INCIDENT, "summary": "x" * MAX_BODY_BYTES}

    response = await gateway.client.post("/incidents", json=body, headers=gateway.auth("trader"))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "BODY_TOO_LARGE"
    assert gateway.recorder.calls == []


async def test_a_streamed_oversized_body_is_413(gateway: Gateway) -> None:
    async def chunks() -> Any:
        yield b'{"source": "md-gateway-ny4", "summary": "'
        for _ in range(MAX_BODY_BYTES // 512 + 1):
            yield b"x" * 512
        yield b'"}'

    response = await gateway.client.post(
        "/incidents",
        content=chunks(),
        headers={**gateway.auth("trader"), "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "BODY_TOO_LARGE"
    assert gateway.recorder.calls == []


async def test_an_unknown_route_is_a_json_404(gateway: Gateway) -> None:
    response = await gateway.client.get("/nowhere", headers=gateway.auth("admin"))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
