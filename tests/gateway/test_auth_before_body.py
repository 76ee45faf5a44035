"""Who may call a route is settled before its body is read (gateway.guard): whatever body a
caller sends (broken JSON, not UTF-8, too large, declared or streamed), no token is 401 and a
role the route does not admit is 403, each refusal audited; only an admitted caller learns what
is wrong with the body, and a body that is not UTF-8 is the same 422 on every route."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from gateway.rbac import RBAC
from runtime.auth import ROLES
from tests.gateway.conftest import MAX_BODY_BYTES, Gateway, running_gateway
from tests.gateway.test_rbac import BODIES, QUERIES, concrete, openapi_routes
from tests.gateway.test_refusal_flood import appended, refusals_counted
from tests.keys import Keys

JSON = {"Content-Type": "application/json"}
NOT_UTF8 = b'{"source": "caf\xe9"}'  # Latin-1


def streamed() -> AsyncIterator[bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 512 + 2):
            yield b" " * 512

    return chunks()


# Each a fresh body per request (a stream is used up by one).
BAD_BODIES: dict[str, Callable[[], Any]] = {
    "broken JSON": lambda: b'{"source": ',
    "not UTF-8": lambda: NOT_UTF8,
    "declared too large": lambda: b" " * (MAX_BODY_BYTES + 1),
    "streamed too large": streamed,
}


def with_body(gateway: Gateway) -> list[tuple[str, str]]:
    """The operations whose OpenAPI entry takes a request body."""
    paths = gateway.app.openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, item in paths.items()
        for method, operation in item.items()
        if "requestBody" in operation
    )


async def test_no_token_is_401_and_a_refused_role_403_whatever_the_body_each_audited(
    keys: Keys,
) -> None:
    refused = 0
    async with running_gateway(keys) as gateway:
        routes = sorted(openapi_routes(gateway) & set(RBAC))
        assert len(routes) == len(RBAC)
        for method, path in routes:
            outsiders = sorted(set(ROLES) - RBAC[(method, path)])
            for name, body in BAD_BODIES.items():
                response = await gateway.client.request(
                    method, concrete(path), params=QUERIES.get((method, path)), content=body()
                )
                assert response.status_code == 401, (method, path, name, response.text)
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert response.json()["error"]["code"] == "UNAUTHENTICATED"
                refused += 1
                if not outsiders:
                    continue
                response = await gateway.client.request(
                    method,
                    concrete(path),
                    params=QUERIES.get((method, path)),
                    content=body(),
                    headers={**gateway.auth(outsiders[0]), **JSON},
                )
                assert response.status_code == 403, (method, path, name, response.text)
                assert response.json()["error"]["code"] == "PERMISSION_DENIED"
                refused += 1
        assert gateway.recorder.calls == []
    # Stopping the gateway records the windows still open.
    assert refusals_counted(appended(gateway)) == refused


async def test_a_body_that_is_not_utf8_is_the_same_422_on_every_route_that_takes_one(
    gateway: Gateway,
) -> None:
    routes = with_body(gateway)
    assert ("POST", "/probes") in routes
    for method, path in routes:
        response = await gateway.client.request(
            method,
            concrete(path),
            content=NOT_UTF8,
            headers={**gateway.auth(*ROLES), **JSON},
        )
        assert response.status_code == 422, (method, path, response.text)
        problem = "not UTF-8: invalid continuation byte at byte 15"
        assert response.json() == {
            "error": {
                "code": "INVALID_ARGUMENT",
                "message": f"invalid request: body: {problem}",
                "fields": [{"field": "body", "problem": problem}],
            }
        }, (method, path)
    assert gateway.recorder.calls == []


async def test_json_in_utf16_is_refused_as_not_utf8_and_a_utf8_byte_order_mark_is_allowed(
    gateway: Gateway,
) -> None:
    incident = b'{"source": "md-gateway-ny4", "kind": "stale_price", "subject": "X"}'
    headers = {**gateway.auth("trader"), **JSON}

    utf16 = await gateway.client.post(
        "/incidents", content=incident.decode().encode("utf-16"), headers=headers
    )
    with_bom = await gateway.client.post(
        "/incidents", content=b"\xef\xbb\xbf" + incident, headers=headers
    )

    assert utf16.status_code == 422
    assert "not UTF-8" in utf16.json()["error"]["message"]
    assert with_bom.status_code == 201
    assert gateway.recorder.only("CreateIncident").request.source == "md-gateway-ny4"


async def test_an_admitted_caller_learns_what_is_wrong_with_the_body(gateway: Gateway) -> None:
    headers = {**gateway.auth("admin"), **JSON}
    answers = {
        name: await gateway.client.post("/probes", content=body(), headers=headers)
        for name, body in BAD_BODIES.items()
    }

    assert {name: r.status_code for name, r in answers.items()} == {
        "broken JSON": 422,
        "not UTF-8": 422,
        "declared too large": 413,
        "streamed too large": 413,
    }
    assert "malformed JSON" in answers["broken JSON"].json()["error"]["message"]
    assert answers["declared too large"].json()["error"]["code"] == "BODY_TOO_LARGE"
    assert gateway.recorder.calls == []


async def test_a_route_that_takes_no_body_ignores_one_of_any_size(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/audit/verify",
        content=b" " * (MAX_BODY_BYTES + 1),
        headers={**gateway.auth("compliance"), **JSON},
    )

    assert response.status_code == 200
    gateway.recorder.only("VerifyChain")


async def test_a_valid_body_from_an_admitted_caller_still_reaches_the_service(
    gateway: Gateway,
) -> None:
    response = await gateway.client.post(
        "/probes", json=BODIES[("POST", "/probes")], headers=gateway.auth("admin")
    )

    assert response.status_code == 201
    assert gateway.recorder.only("PutProbe").request.definition.name == "md-latency"
