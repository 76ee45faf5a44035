"""The OpenAPI document tells what each route answers: a valid OpenAPI 3.1 document; every
success typed, with an example that fits its type; every error the route can answer declared
with the one error body, derived from what the route takes and who may call it; and the errors
a client can provoke are among those declared."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from tests.gateway.conftest import MAX_BODY_BYTES, Gateway
from tests.gateway.document import (
    Schema,
    body_schema,
    document_of,
    operations,
    url_of,
    validator,
)

ERROR = {"$ref": "#/components/schemas/ErrorBody"}
PEERS = {"429", "502", "503", "504"}


async def test_the_document_is_valid_openapi(gateway: Gateway) -> None:
    document = await document_of(gateway)

    validate(document)  # raises on the first fault
    assert document["openapi"].startswith("3.1")


async def test_every_success_is_typed_and_its_example_fits_the_type(gateway: Gateway) -> None:
    document = await document_of(gateway)
    untyped, unexampled, misfit = [], [], []

    for method, path, operation in operations(document):
        name = f"{method.upper()} {path}"
        successes = {code: r for code, r in operation["responses"].items() if code < "300"}
        assert successes, name
        for code, response in successes.items():
            if code == "204":
                assert "content" not in response, name  # no body, and it says so
                continue
            for media, content in response["content"].items():
                schema = content.get("schema", {})
                if not (set(schema) & {"$ref", "type", "anyOf"}) or schema == {"type": "object"}:
                    untyped.append(f"{name} {code}")
                if "example" not in content:
                    unexampled.append(f"{name} {code}")
                elif media == "application/json":
                    errors = list(validator(document, schema).iter_errors(content["example"]))
                    misfit += [f"{name} {code}: {e.message}" for e in errors[:1]]

    assert untyped == []
    assert unexampled == []
    assert misfit == []


def _expected(method: str, path: str, operation: Schema, document: Schema) -> set[str]:
    """The errors a route can answer, from what it takes and who may call it."""
    parameters = operation.get("parameters", [])
    body = body_schema(document, operation)
    found: set[str] = set()
    if "x-roles" in operation:
        found |= {"401", "403", *PEERS} | ({"409"} if method != "get" else set())
    if parameters or body is not None:
        found.add("422")
    if body is not None:
        found.add("413")  # and 400 or 422 for a body that is not UTF-8: provoked below
    if any(p["in"] == "path" for p in parameters):
        found.add("404")
    return found


async def test_every_error_a_route_can_answer_is_declared_with_the_error_body(
    gateway: Gateway,
) -> None:
    document = await document_of(gateway)
    missing, wrong_body, pointless = {}, [], {}

    for method, path, operation in operations(document):
        name = f"{method.upper()} {path}"
        errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
        if path == "/readyz":  # its 503 is the readiness report, peers named
            continue
        lacking = _expected(method, path, operation, document) - set(errors)
        if lacking:
            missing[name] = sorted(lacking)
        for code, response in errors.items():
            if response.get("content") != {"application/json": {"schema": ERROR}}:
                wrong_body.append(f"{name} {code}")
        # A read of something that cannot be absent, with nothing to send, cannot be refused.
        if method == "get" and not operation.get("parameters") and "404" not in errors:
            extra = set(errors) & {"400", "413", "422"}
            if extra:
                pointless[name] = sorted(extra)

    assert missing == {}
    assert wrong_body == []
    assert pointless == {}
    assert "HTTPValidationError" not in document["components"]["schemas"]


async def test_the_errors_a_client_provokes_are_among_those_declared(gateway: Gateway) -> None:
    document = await document_of(gateway)
    admin = gateway.auth("admin", "compliance")
    undeclared = []

    for method, path, operation in operations(document):
        if "x-roles" not in operation:
            continue
        url = url_of(path, operation)
        declared = set(operation["responses"])
        tries: list[tuple[str, dict[str, Any]]] = [("no token", {})]
        if "requestBody" in operation:
            json_headers = {**admin, "content-type": "application/json"}
            tries += [
                ("a body not UTF-8", {"headers": json_headers, "content": b'{"a": "\xff"}'}),
                ("a body over the limit", {"headers": admin, "json": {"a": "x" * MAX_BODY_BYTES}}),
                ("broken JSON", {"headers": json_headers, "content": b"{"}),
            ]
        for what, request in tries:
            response = await gateway.client.request(method, url, **request)
            if str(response.status_code) not in declared:
                undeclared.append(f"{method.upper()} {path} with {what}: {response.status_code}")

    assert undeclared == []
