"""The OpenAPI schema of each reply, from the same descriptors gateway.rest_json writes the
reply from, so the document cannot drift from what a client reads: a route names its reply's
message (`response_model=json_of(pb.Action)`), and `add_components` then writes that message's
schema, and those of every message and enum it holds, into the document's components. Enums
list their REST names; 64-bit integers are integers; fields with presence (messages,
`optional` scalars, oneof members) are the only ones that may be absent."""

from __future__ import annotations

from typing import Annotated, Any

from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from pydantic import WithJsonSchema

from gateway.rest_json import names_of

Schema = dict[str, Any]
REF = "#/components/schemas/"
PACKAGE = "tradeops."  # left out of component names: "ops.v1.Action"
_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Value": {},
}
_T = FieldDescriptor
_SCALARS: dict[int, tuple[str, str]] = {  # protobuf type -> JSON Schema type and format
    **dict.fromkeys((_T.TYPE_INT32, _T.TYPE_SINT32, _T.TYPE_SFIXED32), ("integer", "int32")),
    **dict.fromkeys((_T.TYPE_UINT32, _T.TYPE_FIXED32), ("integer", "int32")),
    **dict.fromkeys((_T.TYPE_INT64, _T.TYPE_SINT64, _T.TYPE_SFIXED64), ("integer", "int64")),
    **dict.fromkeys((_T.TYPE_UINT64, _T.TYPE_FIXED64), ("integer", "int64")),
    **dict.fromkeys((_T.TYPE_DOUBLE, _T.TYPE_FLOAT), ("number", "")),
    _T.TYPE_BOOL: ("boolean", ""),
    _T.TYPE_STRING: ("string", ""),
    _T.TYPE_BYTES: ("string", "byte"),
}


def json_of(message: type[Message]) -> Any:
    """A route's response_model: a plain dict to validate (what gateway.deps.as_json returns,
    so no reply is parsed twice), documented as a reference to the message's schema."""
    return Annotated[dict[str, Any], WithJsonSchema(_ref(message.DESCRIPTOR.full_name))]


def add_components(document: Schema) -> Schema:
    """Writes the schema of every message and enum the document's replies refer to."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    pending = [name for name in _refs(document["paths"]) if name not in schemas]
    pool = descriptor_pool.Default()
    while pending:
        name = pending.pop()
        if name in schemas:
            continue
        try:
            schemas[name] = _message(pool.FindMessageTypeByName(PACKAGE + name))
        except KeyError:
            schemas[name] = _enum(pool.FindEnumTypeByName(PACKAGE + name))
        pending.extend(_refs(schemas[name]))
    return document


def _ref(full_name: str) -> Schema:
    return {"$ref": REF + full_name.removeprefix(PACKAGE)}


def _refs(node: Any) -> list[str]:
    """The component names a part of the document refers to that this module writes."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        own = [ref[len(REF) :]] if isinstance(ref, str) and _is_ours(ref) else []
        return own + [name for value in node.values() for name in _refs(value)]
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    return []


def _is_ours(ref: str) -> bool:
    # Ours are dotted (package.version.Name); pydantic's request and error models are not.
    return ref.startswith(REF) and "." in ref[len(REF) :]


def _message(descriptor: Descriptor) -> Schema:
    fields = descriptor.fields
    schema: Schema = {
        "type": "object",
        "properties": {field.name: _field(field) for field in fields},
    }
    # Every field without presence is written, zero values included (gateway.rest_json).
    required = [field.name for field in fields if not field.has_presence]
    if required:
        schema["required"] = required
    return schema


def _enum(descriptor: EnumDescriptor) -> Schema:
    return {"type": "string", "enum": list(names_of(descriptor).values())}


def _field(field: FieldDescriptor) -> Schema:
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        return {"type": "object", "additionalProperties": _single(entry.fields_by_name["value"])}
    if field.is_repeated:
        return {"type": "array", "items": _single(field)}
    return _single(field)


def _single(field: FieldDescriptor) -> Schema:
    if field.message_type is not None:
        known = _KNOWN.get(field.message_type.full_name)
        return dict(known) if known is not None else _ref(field.message_type.full_name)
    if field.enum_type is not None:
        return _ref(field.enum_type.full_name)
    kind, form = _SCALARS[field.type]
    return {"type": kind, "format": form} if form else {"type": kind}
