"""A message's proto3 JSON mapping as a dict, exactly as json_format.MessageToDict gives it with
preserving_proto_field_name=True and always_print_fields_with_no_presence=True: the shape of
audit records in exports. The gateway's REST replies differ from it in enum names, 64-bit
integers and Struct numbers (gateway.rest_json); both are planned by runtime.json_plan."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Value

from runtime.json_plan import Dialect, rfc3339

__all__ = ["PROTO3", "rfc3339", "to_dict"]


def _well_known(message: Message) -> Any:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def _contract_number(number: float) -> float:
    if not math.isfinite(number):
        _well_known(Value(number_value=number))  # json_format's own error: it reads back as text
    return number


@cache
def _proto_names(enum: EnumDescriptor) -> dict[int, str]:
    return {value.number: value.name for value in enum.values}


PROTO3 = Dialect(
    int64=str, enum_names=_proto_names, number=_contract_number, other_well_known=_well_known
)


def to_dict(message: Message) -> Any:
    """The proto3 JSON mapping: a dict, or for a well-known type its own JSON value."""
    return PROTO3.to_dict(message)
