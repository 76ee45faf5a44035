"""Messages as JSON values, planned once per message type from its descriptor: MessageToDict
looks every field's kind up again on every call, which showed as 7% of the gateway's CPU per
approval. Timestamp and Struct (with Value and ListValue) are written directly. A Dialect names
what a JSON flavour decides for itself (64-bit integers, enum names, Struct numbers, the rarer
well-known types): runtime.proto_json is the contract's own proto3 JSON, gateway.rest_json the
REST replies'."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.internal import type_checkers
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import ListValue, Struct, Value
from google.protobuf.timestamp_pb2 import Timestamp

Convert = Callable[[Any], Any]
_EPOCH = datetime(1970, 1, 1)  # naive: isoformat() then has no offset, as RFC 3339 "Z" wants
_INT64 = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
Plan = tuple[tuple[str, FieldDescriptor | None, Convert], ...]


@dataclass(frozen=True, eq=False)  # compared by identity: plans are cached per dialect
class Dialect:
    """What a JSON flavour decides for itself; the rest of the mapping is proto3 JSON's."""

    int64: Convert  # a 64-bit integer's value
    enum_names: Callable[[EnumDescriptor], Mapping[int, str]]  # each value's name, by number
    number: Callable[[float], Any]  # a number inside a Struct, ListValue or Value
    other_well_known: Convert | None  # None: such a type is refused when planned

    def to_dict(self, message: Message) -> Any:
        """The mapping: a dict, or for a well-known type its own JSON value."""
        return _single_of(self, message.DESCRIPTOR)(message)


def rfc3339(stamp: Timestamp) -> str:
    """Timestamp.ToJsonString(), byte for byte (UTC "Z"; 0, 3, 6 or 9 fraction digits), at a
    third of its cost."""
    text = (_EPOCH + timedelta(seconds=stamp.seconds)).isoformat()
    nanos = stamp.nanos
    if nanos:
        if nanos % 1_000_000 == 0:
            text += f".{nanos // 1_000_000:03d}"
        elif nanos % 1000 == 0:
            text += f".{nanos // 1000:06d}"
        else:
            text += f".{nanos:09d}"
    return text + "Z"


@cache
def _single_of(dialect: Dialect, descriptor: Descriptor) -> Convert:
    name = descriptor.full_name
    if name == "google.protobuf.Timestamp":
        return rfc3339
    if name in ("google.protobuf.Struct", "google.protobuf.ListValue", "google.protobuf.Value"):
        return _structs(dialect)[name]
    if not name.startswith("google.protobuf."):
        plan = _plan(dialect, descriptor)
        return lambda message: _fields(plan, message)
    if dialect.other_well_known is None:
        # Its JSON is special (a Duration is "1.5s"): say so when planning, never write it wrong.
        raise NotImplementedError(f"no JSON of this dialect for {name} yet")
    return dialect.other_well_known


def _fields(plan: Plan, message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field, convert in plan:
        if field is not None and not message.HasField(name):
            continue  # a field with presence left unset is left out
        out[name] = convert(getattr(message, name))
    return out


@cache
def _plan(dialect: Dialect, descriptor: Descriptor) -> Plan:
    """Per field: its name, itself when it has presence (a message, an `optional` scalar, a
    oneof member: left out when unset), and its converter."""
    return tuple(
        (field.name, field if field.has_presence else None, _converter(dialect, field))
        for field in descriptor.fields
    )


def _converter(dialect: Dialect, field: FieldDescriptor) -> Convert:
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        key = _scalar(dialect, message.fields_by_name["key"])
        value = _single(dialect, message.fields_by_name["value"])
        return lambda entries: {str(key(k)): value(v) for k, v in entries.items()}
    one = _single(dialect, field)
    if field.is_repeated:
        return lambda items: [one(item) for item in items]
    return one


def _single(dialect: Dialect, field: FieldDescriptor) -> Convert:
    message = field.message_type
    if message is None:
        return _scalar(dialect, field)
    return _single_of(dialect, message)


def _scalar(dialect: Dialect, field: FieldDescriptor) -> Convert:
    kind = field.type
    if kind in _INT64:
        return dialect.int64
    if kind == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        names = dialect.enum_names(field.enum_type)
        # A number the contracts do not know (a newer peer) stays a number.
        return lambda number: names.get(number, number)
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _float if kind == FieldDescriptor.TYPE_DOUBLE else _float32
    if kind == FieldDescriptor.TYPE_BYTES:
        return lambda raw: base64.b64encode(raw).decode("ascii")
    if kind == FieldDescriptor.TYPE_BOOL:
        return _bool_key if _is_map_key(field) else _same
    return _same


def _same(value: Any) -> Any:
    return value


def _is_map_key(field: FieldDescriptor) -> bool:
    entry = field.containing_type
    return field.name == "key" and entry is not None and entry.GetOptions().map_entry


def _bool_key(value: bool) -> str:
    return "true" if value else "false"


def _float(value: float) -> float | str:
    # JSON has no NaN or infinity: proto3 JSON's spellings, rather than invalid JSON.
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _float32(value: float) -> float | str:
    shown = _float(value)
    return type_checkers.ToShortestFloat(value) if isinstance(shown, float) else shown


@cache
def _structs(dialect: Dialect) -> dict[str, Convert]:
    """Struct, ListValue and Value as plain JSON values, numbers written as the dialect says."""
    number = dialect.number

    def struct(message: Struct) -> dict[str, Any]:
        # A Struct is a map, iterated in no fixed order: sorted keys give the same reply (and
        # the same export bytes) on every run.
        return {key: value(message.fields[key]) for key in sorted(message.fields)}

    def listed(message: ListValue) -> list[Any]:
        return [value(item) for item in message.values]

    def value(message: Value) -> Any:
        which = message.WhichOneof("kind")
        if which is None or which == "null_value":
            return None
        if which == "number_value":
            return number(message.number_value)
        if which == "struct_value":
            return struct(message.struct_value)
        if which == "list_value":
            return listed(message.list_value)
        return getattr(message, which)

    return {
        "google.protobuf.Struct": struct,
        "google.protobuf.ListValue": listed,
        "google.protobuf.Value": value,
    }
