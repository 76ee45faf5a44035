"""OpenAPI links from each create to what uses what it made, derived from names alone: the
created thing's `id` fills the path parameter of the routes under the create's path (under
"/incidents/{incident_id}" for POST /incidents; for a create named by a verb, POST
/agent/compliance/run, its plural's; a rule set's `version`, which has no id); every other id
in the reply fills the parameter of the same name (a decision's `incident_id`); a route is
linked when all its path parameters are filled, a body-taking route when the ids fill every
required field of its body (POST /agent/triage takes the new incident's id) or else with its
body's example, ids filled; and a list when it sits where the made ids sit or filters by an id
the reply holds. A create is a POST answering 201, or a PUT with no path parameter (the next
rule set version)."""

from __future__ import annotations

import re
from typing import Any

Schema = dict[str, Any]
REF = "#/components/schemas/"
_PARAMETER = re.compile(r"\{([^}]+)\}")


def declare(document: Schema) -> None:
    schemas = document["components"]["schemas"]
    operations = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    for method, path, operation in operations:
        status = _creates(method, path, operation)
        if status is None:
            continue
        reply = _resolve(_json_schema(operation["responses"][status]) or {}, schemas)
        fills = _fills(path, reply, operations)
        links = {
            target["operationId"]: link
            for target_method, target_path, target in operations
            if target is not operation
            and (link := _link(target_method, target_path, target, fills, document)) is not None
        }
        if links:
            operation["responses"][status]["links"] = links


def _creates(method: str, path: str, operation: Schema) -> str | None:
    if method == "post" and "201" in operation["responses"]:
        return "201"
    if method == "put" and "{" not in path and "200" in operation["responses"]:
        return "200"
    return None


def _fills(path: str, reply: Schema, operations: list[tuple[str, str, Schema]]) -> dict[str, str]:
    """Parameter name -> the runtime expression of its value in the create's answer: the ids it
    holds, and the made thing's own, its `id` (or the field named as the parameter is)."""
    fields = reply.get("properties", {})
    fills = {name: f"$response.body#/{name}" for name in fields if name.endswith("_id")}
    for _, other, _ in operations:
        for home in (path, path + "s"):
            found = re.match(re.escape(home) + r"/\{([^}]+)\}", other)
            own = found.group(1) if found else ""
            if own and own not in fills and ("id" in fields or own in fields):
                fills[own] = "$response.body#/" + ("id" if "id" in fields else own)
    return fills


def _link(
    method: str, path: str, operation: Schema, fills: dict[str, str], document: Schema
) -> Schema | None:
    needed = _PARAMETER.findall(path)
    if any(name not in fills for name in needed):
        return None
    link: Schema = {"operationId": operation["operationId"]}
    parameters = {name: fills[name] for name in needed}
    body = _body(operation, document["components"]["schemas"])
    if body is not None:
        request = _request(body, fills)
        if request is None:
            return None
        if request:
            link["requestBody"] = request
    elif not needed:
        if method != "get" or not _lists_made(path, fills, operation, document["paths"]):
            return None
        query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        parameters = {f"query.{name}": fills[name] for name in query if name in _ids(fills)}
    if parameters:
        link["parameters"] = parameters
    return link


def _request(body: Schema, fills: dict[str, str]) -> Schema | None:
    """The body a link sends: the ids filling its required fields; else the body's own example
    with the ids it names filled; empty when nothing is required (the body may be left out)."""
    required = body.get("required", [])
    if all(name in fills for name in required):
        return {name: fills[name] for name in required}
    examples = body.get("examples", [])
    if not examples:
        return None
    return {name: fills.get(name, value) for name, value in examples[0].items()}


def _lists_made(path: str, fills: dict[str, str], operation: Schema, paths: Schema) -> bool:
    """A list of what the create made: the made ids sit under its path, or it filters by an id
    the answer holds."""
    made = [name for name, value in fills.items() if value.endswith("#/id")]
    query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    return bool(query & _ids(fills)) or any(f"{path}/{{{name}}}" in paths for name in made)


def _ids(fills: dict[str, str]) -> set[str]:
    return {name for name in fills if name.endswith("_id")}


def _body(operation: Schema, schemas: Schema) -> Schema | None:
    if "requestBody" not in operation:
        return None
    return _resolve(operation["requestBody"]["content"]["application/json"]["schema"], schemas)


def _json_schema(response: Schema) -> Schema | None:
    media = response.get("content", {}).get("application/json")
    return None if media is None else media.get("schema")


def _resolve(schema: Schema, schemas: Schema) -> Schema:
    for option in schema.get("anyOf", [schema]):
        ref = option.get("$ref", "")
        if ref.startswith(REF):
            found: Schema = schemas[ref[len(REF) :]]
            return found
    return schema
