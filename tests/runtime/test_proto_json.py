"""runtime.proto_json.to_dict gives exactly what json_format.MessageToDict gives (with the
gateway's options) for every message of every contract, filled with random values of every
kind: empty, nested, repeated, maps, enums (known and unknown), NaN and infinities, timestamps
at each precision, Structs."""

from __future__ import annotations

import importlib
import math
import random
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from runtime.proto_json import rfc3339, to_dict

MODULES = [
    f"tradeops.{name}_pb2"
    for name in (
        "agent.v1.agent_service",
        "agent.v1.compliance_service",
        "agent.v1.probe_service",
        "agent.v1.remediation_service",
        "agent.v1.trigger_service",
        "audit.v1.audit_service",
        "common.v1.common",
        "export.v1.export_service",
        "ops.v1.ops_service",
    )
]


def _messages() -> list[type[Message]]:
    found = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            found.append(getattr(module, descriptor.name))
    return found


def _expected(message: Message) -> Any:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


SPECIAL = [0.0, -0.0, 1.5, -2.25e300, 1e-320, math.inf, -math.inf, math.nan, 3.0]


def _scalar(field: Any, rnd: random.Random) -> Any:  # a FieldDescriptor (upb or Python)
    kind = field.type
    if kind == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        numbers = [v.number for v in field.enum_type.values]
        return rnd.choice([*numbers, 97])  # 97: a value this build does not know
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return rnd.choice(SPECIAL)
    if kind == FieldDescriptor.TYPE_BOOL:
        return rnd.random() < 0.5
    if kind == FieldDescriptor.TYPE_STRING:
        return rnd.choice(["", "plain", 'quote " and \\ slash', "ünïcödé €", "\x00\n"])
    if kind == FieldDescriptor.TYPE_BYTES:
        return rnd.randbytes(rnd.randint(0, 9))
    if kind in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return rnd.choice([0, 1, 2**32 - 1])
    if kind in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return rnd.choice([0, 7, 2**64 - 1])
    signed64 = (
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_SFIXED64,
    )
    if kind in signed64:
        return rnd.choice([0, -1, 2**63 - 1, -(2**63)])
    return rnd.choice([0, -1, 2**31 - 1, -(2**31)])


def _stamp(rnd: random.Random) -> Timestamp:
    nanos = rnd.choice([0, 5_000_000, 123_456_000, 987_654_321, 1])
    return Timestamp(seconds=rnd.randint(-62135596800, 253402300799), nanos=nanos)


def _struct(rnd: random.Random) -> Struct:
    struct = Struct()
    struct.update({"n": rnd.choice([1, 2.5, -3.0]), "s": "x", "b": True, "z": None,
                   "l": [1, "two", {"k": [False]}], "o": {"deep": {"er": 1.25}}})  # fmt: skip
    return struct


def _fill(message: Message, rnd: random.Random, depth: int) -> None:
    descriptor = message.DESCRIPTOR
    if descriptor.full_name == "google.protobuf.Struct":
        message.CopyFrom(_struct(rnd))
        return
    if descriptor.full_name == "google.protobuf.Timestamp":
        message.CopyFrom(_stamp(rnd))
        return
    for field in descriptor.fields:
        if rnd.random() < 0.2:
            continue  # left at its default
        target = field.message_type
        if target is not None and target.GetOptions().map_entry:
            entries = getattr(message, field.name)
            for _ in range(rnd.randint(0, 2)):
                key = _scalar(target.fields_by_name["key"], rnd)
                value_field = target.fields_by_name["value"]
                if value_field.message_type is not None:
                    _fill(entries[key], rnd, depth + 1)
                else:
                    entries[key] = _scalar(value_field, rnd)
        elif field.is_repeated:
            items = getattr(message, field.name)
            for _ in range(rnd.randint(0, 2)):
                if target is not None:
                    if depth < 3:
                        _fill(items.add(), rnd, depth + 1)
                else:
                    items.append(_scalar(field, rnd))
        elif target is not None:
            if depth < 3:
                _fill(getattr(message, field.name), rnd, depth + 1)
                if rnd.random() < 0.1:
                    getattr(message, field.name).SetInParent()  # set but empty
        else:
            setattr(message, field.name, _scalar(field, rnd))


def _same(left: Any, right: Any) -> bool:
    """Equality with NaN equal to itself (json_format writes it as the string "NaN" anyway)."""
    if isinstance(left, float) and isinstance(right, float):
        both_nan = math.isnan(left) and math.isnan(right)
        return both_nan or (left == right and str(left) == str(right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return type(left) is type(right) and left == right


@pytest.mark.parametrize("cls", _messages(), ids=lambda cls: cls.DESCRIPTOR.full_name)
def test_every_contract_message_maps_as_message_to_dict_does(cls: type[Message]) -> None:
    rnd = random.Random(cls.DESCRIPTOR.full_name)
    assert _same(to_dict(cls()), _expected(cls()))
    for _ in range(40):
        message = cls()
        _fill(message, rnd, 0)
        assert _same(to_dict(message), _expected(message)), message


def test_well_known_types_at_the_top_map_as_themselves() -> None:
    rnd = random.Random(7)
    for message in (_stamp(rnd), _struct(rnd), Timestamp()):
        assert to_dict(message) == _expected(message)


def test_timestamps_at_every_precision_are_written_as_json_format_writes_them() -> None:
    for nanos in (0, 1, 10, 1_000, 1_000_000, 120_000_000, 999_999_999):
        for seconds in (-62135596800, -1, 0, 1_700_000_000, 253402300799):
            stamp = Timestamp(seconds=seconds, nanos=nanos)
            assert rfc3339(stamp) == stamp.ToJsonString()
