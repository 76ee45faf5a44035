"""Rules the request models enforce that their generated JSON Schema leaves out, written into the
document so that what it allows is what the gateway takes:
- text: no NUL anywhere (gateway.bodies.base.StorableText), so every string, object key and
  free JSON value of a request says so with a pattern;
- free JSON (an action's parameters, a rule set's document) is `PlainJson`: its own text holds
  no NUL; what nests inside it is declared as any JSON, and the rest of the rule (no NUL at any
  depth, at most gateway.bodies.base.MAX_DEPTH levels, the integer range) stays in code
  (gateway.bodies.base.checked_json) and in the description. A schema that says it all must
  refer to itself, and client generators (openapi-python-client) cannot read such a union: they
  dropped every operation that takes free JSON;
- integer bounds exactly: FastAPI's document model holds bounds as floats, which turns the int64
  limit 2**63 - 1 into 2**63, a value the server refuses."""

from __future__ import annotations

import re
from typing import Any

from gateway.bodies.base import MAX_DEPTH, MAX_INT64

Schema = dict[str, Any]
NUL_FREE = "^[^\\u0000]*$"
PLAIN_JSON = "PlainJson"
_PLAIN_REF = {"$ref": f"#/components/schemas/{PLAIN_JSON}"}
_KEYS = {"type": "string", "pattern": NUL_FREE}
PLAIN_JSON_SCHEMA: Schema = {
    "description": f"Any JSON value whose text (keys included) holds no NUL, nesting at most "
    f"{MAX_DEPTH} levels",
    "anyOf": [
        {"type": "string", "pattern": NUL_FREE},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": {}},
        {"type": "object", "propertyNames": _KEYS, "additionalProperties": True},
    ],
}
# A pattern of anchored character classes that leave NUL out already needs no second rule.
_CLASSES_ONLY = re.compile(r"\^(\[[^\]\\^]*\][*+?]?)+\$")
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_NESTED = ("items", "additionalProperties", "propertyNames", "not", "contains")
_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")


def declare(document: Schema) -> None:
    schemas = document["components"]["schemas"]
    for name, schema in schemas.items():
        _exact_bounds(schema)
        if "." not in name and not name.startswith("Error"):  # requests, not replies
            _text_rules(schema)
    schemas[PLAIN_JSON] = PLAIN_JSON_SCHEMA
    for item in document["paths"].values():
        for operation in item.values():
            _one_of_each(operation)
            for parameter in operation.get("parameters", []):
                _exact_bounds(parameter["schema"])
                if parameter["in"] == "query":
                    _text_rules(parameter["schema"])


def _one_of_each(operation: Schema) -> None:
    """A route's own header and the one every POST takes (gateway.deps.IDEMPOTENCY_HEADER) may
    name the same parameter: one stays, with the later's rule (the one enforced for every POST)
    and both descriptions."""
    kept: dict[tuple[str, str], Schema] = {}
    for parameter in operation.get("parameters", []):
        key = (parameter["in"], parameter["name"].lower())
        first = kept.setdefault(key, parameter)
        if first is not parameter:
            texts = [first.get("description", ""), parameter.get("description", "")]
            text = ". ".join(t.rstrip(".") for t in texts if t) + "."
            kept[key] = {**parameter, "description": text}
    if "parameters" in operation:
        operation["parameters"] = list(kept.values())


def _text_rules(schema: Schema) -> None:
    kind = schema.get("type")
    if kind == "string" and not {"format", "enum", "const"} & schema.keys():
        pattern = schema.get("pattern")
        if pattern is None:
            schema["pattern"] = NUL_FREE
        elif not _CLASSES_ONLY.fullmatch(pattern):
            schema.setdefault("allOf", []).append({"pattern": NUL_FREE})
    if kind == "object":
        keys = schema.setdefault("propertyNames", {})
        keys.setdefault("pattern", NUL_FREE)
        if schema.get("additionalProperties") is True:
            schema["additionalProperties"] = _PLAIN_REF
    _each(schema, _text_rules)


def _exact_bounds(schema: Schema) -> None:
    if schema.get("type") == "integer":
        for bound in _BOUNDS:
            value = schema.get(bound)
            if isinstance(value, float) and value.is_integer():
                schema[bound] = min(int(value), MAX_INT64)
    _each(schema, _exact_bounds)


def _each(schema: Schema, visit: Any) -> None:
    for key in ("properties", "$defs"):
        for child in schema.get(key, {}).values():
            visit(child)
    for key in _NESTED:
        if isinstance(schema.get(key), dict):
            visit(schema[key])
    for key in _MANY:
        for child in schema.get(key, []):
            visit(child)
