"""A reply message as the JSON a REST client reads. It follows the proto3 JSON mapping
(runtime.proto_json: the .proto field names, every field without presence written, zero values
included, Timestamps as RFC 3339) but for three things a REST client should not have to know
about protobuf: an enum value is its name without the enum's common prefix ("PENDING_APPROVAL",
not "ACTION_STATE_PENDING_APPROVAL"); a 64-bit integer is a JSON integer, not a string; and a
whole number inside a Struct (which holds every number as a double) is written as an integer, so
a parameter sent as 518 comes back as 518, not 518.0. Each message type's fields are planned
once from its descriptor by runtime.json_plan, as the contract's own JSON is, since this runs
on every reply."""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message

from runtime.json_plan import Dialect

if TYPE_CHECKING:  # generic in the stubs only: it gives each enum's own value type back
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

Number = TypeVar("Number", bound=int)
EXACT = 2**53  # beyond it a double no longer holds every integer: those stay as they are


def to_rest(message: Message) -> dict[str, Any]:
    """The reply's REST JSON (a gateway reply is always a plain message, never a well-known
    type on its own)."""
    return cast(dict[str, Any], REST.to_dict(message))


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


def _number(number: float) -> int | float:
    if not math.isfinite(number):
        raise ValueError(f"a Struct number must be finite to be JSON, not {number}")
    if number.is_integer() and abs(number) <= EXACT:
        return int(number)  # the gateway admits integers within ±2**53 only (bodies.base)
    return number


# A 64-bit integer is a Python int already, which is a JSON integer; other well-known types
# (Duration, Any, ...) have a special JSON and no reply uses one yet: planning one fails loudly.
REST = Dialect(int64=int, enum_names=names_of, number=_number, other_well_known=None)
