"""Every answer comes in a content type its operation declares for that status: a client that
picks its decoder from the OpenAPI document never meets one it was not told about. Errors are
JSON on every route, the plain-text checkpoint note included."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
from fastapi import APIRouter

from gateway.rbac import RBAC
from runtime.auth import ROLES
from tests.gateway.conftest import Gateway
from tests.gateway.test_rbac import call, openapi_routes
from tradeops.audit.v1 import audit_service_pb2 as audit_pb

NOTE = "/audit/checkpoints/latest.txt"


def declared(doc: dict[str, Any], method: str, path: str, status: int) -> set[str]:
    responses = doc["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, (method, path, status, sorted(responses))
    return set(responses[str(status)].get("content", {}))


def assert_declared(doc: dict[str, Any], method: str, path: str, response: httpx.Response) -> None:
    media_types = declared(doc, method, path, response.status_code)
    if "content-type" not in response.headers:
        assert not media_types, (method, path, response.status_code)
        assert not response.content, (method, path, response.status_code)
        return
    media_type = response.headers["content-type"].split(";")[0].strip()
    assert media_type in media_types, (method, path, response.status_code, media_types)


async def test_the_checkpoint_note_declares_its_errors_as_json_and_answers_them_so(
    gateway: Gateway,
) -> None:
    doc = gateway.app.openapi()
    gateway.recorder.failures["GetCheckpoint"] = (grpc.StatusCode.NOT_FOUND, "no checkpoint yet")

    missing = await gateway.client.get(NOTE, headers=gateway.auth("viewer"))
    anonymous = await gateway.client.get(NOTE)

    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json"
    assert anonymous.status_code == 401
    responses = doc["paths"][NOTE]["get"]["responses"]
    assert set(responses["200"]["content"]) == {"text/plain"}
    for status, response in responses.items():
        if status != "200":
            assert set(response["content"]) == {"application/json"}, status
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    assert "ErrorBody" in doc["components"]["schemas"]
    for response in (missing, anonymous):
        assert_declared(doc, "GET", NOTE, response)


async def test_every_operation_answers_in_a_content_type_it_declares(gateway: Gateway) -> None:
    doc = gateway.app.openapi()
    gateway.recorder.replies["GetCheckpoint"] = audit_pb.SignedCheckpoint(note="tradeops\n1\n")
    seen = set()
    for method, path in sorted(openapi_routes(gateway)):
        allowed = RBAC.get((method, path), frozenset(ROLES))
        outsiders = sorted(set(ROLES) - allowed)
        attempts = [gateway.auth(sorted(allowed)[0]), {}, gateway.auth(*outsiders[:1])]
        for headers in attempts[: 3 if outsiders else 2]:
            response = await call(gateway, method, path, headers)
            assert_declared(doc, method, path, response)
            seen.add((response.status_code, response.headers.get("content-type")))
    # The walk met successes, refusals and the plain-text note.
    assert {200, 201, 204, 401, 403} <= {status for status, _ in seen}
    assert (200, "text/plain; charset=utf-8") in seen


async def test_a_failure_of_the_gateway_itself_is_a_json_500(gateway: Gateway) -> None:
    broken = APIRouter()

    @broken.get("/broken")
    async def fails() -> None:
        raise RuntimeError("a bug")

    gateway.app.include_router(broken)
    transport = httpx.ASGITransport(app=gateway.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.get("/broken")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "INTERNAL"
    assert "a bug" not in response.text
