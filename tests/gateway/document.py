"""Reading the gateway's OpenAPI document as a client does: its operations, a JSON Schema
validator for any schema in it (its $refs resolved against the document), and a concrete URL for
an operation (each path parameter filled with a value its schema takes)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from openapi_schema_validator import OAS31Validator

from tests.gateway.conftest import Gateway

Schema = dict[str, Any]
REF = "#/components/schemas/"


async def document_of(gateway: Gateway) -> Schema:
    response = await gateway.client.get("/openapi.json")
    assert response.status_code == 200
    document: Schema = response.json()
    return document


def operations(document: Schema) -> Iterator[tuple[str, str, Schema]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def validator(document: Schema, schema: Schema) -> Any:
    return OAS31Validator({**schema, "components": document["components"]})


def resolved(document: Schema, schema: Schema) -> Schema:
    for option in schema.get("anyOf", [schema]):
        ref = option.get("$ref", "")
        if ref.startswith(REF):
            found: Schema = document["components"]["schemas"][ref[len(REF) :]]
            return found
    return schema


def body_schema(document: Schema, operation: Schema) -> Schema | None:
    if "requestBody" not in operation:
        return None
    return resolved(document, operation["requestBody"]["content"]["application/json"]["schema"])


def url_of(path: str, operation: Schema, given: dict[str, Any] | None = None) -> str:
    """The path with each parameter filled: as given, else its example, else a value of its
    type (a UUID, or the smallest integer it allows above 0)."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        name, schema = parameter["name"], parameter["schema"]
        value = (given or {}).get(name)
        if value is None and parameter.get("examples"):
            value = parameter["examples"][0]
        elif value is None and schema.get("examples"):
            value = schema["examples"][0]
        elif value is None and schema.get("type") == "integer":
            value = max(schema.get("minimum", 1), 1)
        elif value is None:
            value = uuid.uuid4()
        path = path.replace("{" + name + "}", str(value))
    return path
