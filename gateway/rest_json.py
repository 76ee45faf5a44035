"""A reply message as the JSON a REST client reads. It follows the proto3 JSON mapping
(runtime.proto_json: the .proto field names, every field without presence written, zero values
included, Timestamps as RFC 3339) but for three things a REST client should not have to know
about protobuf: an enum value is its name without the enum's common prefix ("PENDING_APPROVAL",
not "ACTION_STATE_PENDING_APPROVAL"); a 64-bit integer is a JSON integer, not a string; and a
whole number inside a Struct (which holds every number as a double) is written as an integer, so
a parameter sent as 518 comes back as 518, not 518.0. Each message type's fields are planned
once from its descriptor, as in runtime.proto_json, since this runs on every reply."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import ListValue, Struct, Value

from runtime.proto_json import rfc3339

if TYPE_CHECKING:  # generic in the stubs only: it gives each enum's own value type back
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

Convert = Callable[[Any], Any]
Number = TypeVar("Number", bound=int)
EXACT = 2**53  # beyond it a double no longer holds every integer: those stay as they are


def to_rest(message: Message) -> dict[str, Any]:
    """The reply's REST JSON (a gateway reply is always a plain message, never a well-known
    type on its own)."""
    return _fields(message)


@cache
def prefix_of(enum: EnumDescriptor) -> str:
    """The prefix every value name shares, up to its last underscore: "ACTION_STATE_" for
    ACTION_STATE_UNSPECIFIED, ACTION_STATE_PENDING_APPROVAL, ..."""
    names = [value.name for value in enum.values]
    shared = names[0]
    for name in names[1:]:
        while not name.startswith(shared):
            shared = shared[:-1]
    return shared[: shared.rfind("_") + 1]


@cache
def names_of(enum: EnumDescriptor) -> dict[int, str]:
    """Each value's REST name, by number."""
    cut = len(prefix_of(enum))
    return {value.number: value.name[cut:] for value in enum.values}


def number_of(enum: _EnumTypeWrapper[Number], name: str) -> Number:
    """The reverse, for requests: "PENDING_APPROVAL" -> ACTION_STATE_PENDING_APPROVAL."""
    return enum.Value(prefix_of(enum.DESCRIPTOR) + name)


def _fields(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field, convert in _plan(message.DESCRIPTOR):
        if field is not None and not message.HasField(name):
            continue  # a field with presence left unset is left out, as proto3 JSON does
        out[name] = convert(getattr(message, name))
    return out


@cache
def _plan(descriptor: Descriptor) -> tuple[tuple[str, FieldDescriptor | None, Convert], ...]:
    return tuple(
        (field.name, field if field.has_presence else None, _converter(field))
        for field in descriptor.fields
    )


def _converter(field: FieldDescriptor) -> Convert:
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        value = _single(entry.fields_by_name["value"])
        key = _key(entry.fields_by_name["key"])
        return lambda entries: {key(k): value(v) for k, v in entries.items()}
    one = _single(field)
    if field.is_repeated:
        return lambda items: [one(item) for item in items]
    return one


def _single(field: FieldDescriptor) -> Convert:
    message = field.message_type
    if message is None:
        return _scalar(field)
    known = _KNOWN.get(message.full_name)
    if known is None and message.full_name.startswith("google.protobuf."):
        # Its JSON is special (a Duration is "1.5s"): say so when planning, never write it wrong.
        raise NotImplementedError(f"no REST JSON for {message.full_name} yet")
    return known or _fields


def _key(field: FieldDescriptor) -> Convert:
    # JSON object keys are text; a bool key is written as JSON writes the bool.
    if field.type == FieldDescriptor.TYPE_BOOL:
        return lambda key: "true" if key else "false"
    return str


def _scalar(field: FieldDescriptor) -> Convert:
    kind = field.type
    if kind == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        names = names_of(field.enum_type)
        # A number this gateway's contracts do not know (a newer service) stays a number.
        return lambda number: names.get(number, number)
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _float
    if kind == FieldDescriptor.TYPE_BYTES:
        return lambda raw: base64.b64encode(raw).decode("ascii")
    return _same  # strings, bools and every integer (a Python int is a JSON integer)


def _same(value: Any) -> Any:
    return value


def _float(value: float) -> float | str:
    # JSON has no NaN or infinity: proto3 JSON's spellings, rather than invalid JSON.
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _struct(struct: Struct) -> dict[str, Any]:
    return {key: _value(value) for key, value in struct.fields.items()}


def _list(values: ListValue) -> list[Any]:
    return [_value(value) for value in values.values]


def _value(value: Value) -> Any:
    which = value.WhichOneof("kind")
    if which is None or which == "null_value":
        return None
    if which == "number_value":
        return _number(value.number_value)
    if which == "struct_value":
        return _struct(value.struct_value)
    if which == "list_value":
        return _list(value.list_value)
    return getattr(value, which)


def _number(number: float) -> int | float:
    if not math.isfinite(number):
        raise ValueError(f"a Struct number must be finite to be JSON, not {number}")
    if number.is_integer() and abs(number) <= EXACT:
        return int(number)  # the gateway admits integers within ±2**53 only (bodies.base)
    return number


_KNOWN: dict[str, Convert] = {
    "google.protobuf.Timestamp": rfc3339,
    "google.protobuf.Struct": _struct,
    "google.protobuf.ListValue": _list,
    "google.protobuf.Value": _value,
}
