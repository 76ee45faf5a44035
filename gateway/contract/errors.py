"""Which errors each operation can answer, derived from what it takes and who may call it, each
with the one error body (gateway.errors.ErrorBody): a token and a role for a protected route
(401, 403); the failures of the peer every protected route calls (429 for a message over a
peer's size limit, 502, 503, 504); input to refuse (422, a body that is not UTF-8 JSON too), a
body over the size limit (413); an id to look up (404); a change the resource's state or a
running retry with the same Idempotency-Key can forbid, and the few reads its state can (409)."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
ERROR = {"$ref": "#/components/schemas/ErrorBody"}
REF = "#/components/schemas/"
PEERS = (429, 502, 503, 504)
# Reads that look nothing up by id and still answer 404: no checkpoint has been cut yet.
NOTHING_YET = frozenset(
    {
        ("get", "/audit/checkpoints/latest"),
        ("get", "/audit/checkpoints/latest.txt"),
        ("get", "/audit/proofs/inclusion"),
        ("get", "/audit/proofs/consistency"),
    }
)
# Reads the resource's state can refuse (409): a file of an export not finished yet.
STATE_BOUND_READS = frozenset({("get", "/exports/{export_id}/files/{name}")})
MEANING = {
    401: "No bearer token, or one that is expired, malformed or not signed by a trusted key.",
    403: "None of the caller's roles may do this.",
    404: "Nothing has the id given (or nothing exists yet).",
    409: "The resource's state forbids this now, or a request with the same Idempotency-Key "
    "is still running.",
    413: "The body is over the gateway's size limit.",
    422: "The request breaks a rule, or its body is not UTF-8 JSON; `error.fields` names each "
    '({"field", "problem"}).',
    429: "A message is over a backing service's size limit.",
    502: "A backing service failed.",
    503: "A backing service is unavailable; retry later.",
    504: "A backing service did not answer in time.",
}
_VALIDATION = ("HTTPValidationError", "ValidationError")  # FastAPI's own 422, never answered


def declare(document: Schema) -> None:
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for code in [code for code in responses if _is_error(responses[code])]:
                del responses[code]
            for status in sorted(statuses(method, path, operation, schemas)):
                responses.setdefault(
                    str(status),
                    {"description": MEANING[status], "content": _json(ERROR)},
                )
    for name in _VALIDATION:
        schemas.pop(name, None)


def statuses(method: str, path: str, operation: Schema, schemas: Schema) -> set[int]:
    parameters = operation.get("parameters", [])
    body = _body_schema(operation, schemas)
    found: set[int] = set()
    if operation.get("security"):
        found |= {401, 403, *PEERS}
        if method != "get" or (method, path) in STATE_BOUND_READS:
            found.add(409)
    if parameters or body is not None:
        found.add(422)
    if body is not None:
        found.add(413)
    ids = [p["name"] for p in parameters if p["in"] in ("path", "query")]
    ids += list((body or {}).get("properties", {}))
    if (
        any(p["in"] == "path" for p in parameters)
        or (method, path) in NOTHING_YET
        or any(name.endswith("_id") or name == "ids" for name in ids)
    ):
        found.add(404)
    return found


def _body_schema(operation: Schema, schemas: Schema) -> Schema | None:
    if "requestBody" not in operation:
        return None
    schema: Schema = operation["requestBody"]["content"]["application/json"]["schema"]
    for option in schema.get("anyOf", [schema]):  # an optional body: the model or null
        ref = option.get("$ref", "")
        if ref.startswith(REF):
            found: Schema = schemas[ref[len(REF) :]]
            return found
    return schema


def _is_error(response: Schema) -> bool:
    schemas = [media.get("schema", {}) for media in response.get("content", {}).values()]
    refs = {schema.get("$ref", "") for schema in schemas}
    return bool(refs) and refs <= {ERROR["$ref"], *(REF + name for name in _VALIDATION)}


def _json(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}
