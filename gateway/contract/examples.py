"""An example of each JSON reply, made the way the gateway makes a reply: a message of the
reply's type (the one its schema names) filled with sample values, then written by
gateway.rest_json, so an example is exactly what a client could read. Oneofs hold their first
member; repeated fields and maps one item; nesting stops at a few levels, as real replies do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import ListValue, Struct, Value
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.rest_json import to_rest
from gateway.rest_schema import PACKAGE, REF

Schema = dict[str, Any]
AT = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
DEEP = 4
# Text fields whose name says what they hold; any other holds its own name.
TEXT = {
    "kind": "market_data_latency",
    "source": "md-gateway-ny4",
    "subject": "XNAS-ITCH",
    "desk": "equities",
    "venue": "XNAS",
    "instrument": "US0378331005",
    "category": "market_data",
    "severity": "P2",
    "requested_by": "alice",
    "created_by": "alice",
    "format": "jsonl",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
}
_T = FieldDescriptor
_NUMBERS = {_T.TYPE_DOUBLE: 0.85, _T.TYPE_FLOAT: 0.5, _T.TYPE_BOOL: True, _T.TYPE_BYTES: b"\x01"}


def declare(document: Schema) -> None:
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                media = response.get("content", {}).get("application/json")
                ref = (media or {}).get("schema", {}).get("$ref", "")
                if status.startswith("2") and media is not None and "." in ref:
                    media.setdefault("example", reply_example(ref[len(REF) :]))


def reply_example(name: str) -> dict[str, Any]:
    """The REST JSON of a filled message of the component `name` ("agent.v1.Incident")."""
    descriptor = descriptor_pool.Default().FindMessageTypeByName(PACKAGE + name)
    message = message_factory.GetMessageClass(descriptor)()
    _fill(message, 0)
    return to_rest(message)


def _fill(message: Message, depth: int) -> None:
    descriptor = descriptor_pool.Default().FindMessageTypeByName(message.DESCRIPTOR.full_name)
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and field is not oneof.fields[0]:
            continue
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            _fill_map(getattr(message, field.name), entry, depth)
        elif field.is_repeated:
            _add(getattr(message, field.name), field, depth)
        elif entry is not None:
            _fill_message(getattr(message, field.name), depth + 1)
        else:
            setattr(message, field.name, _scalar(field))


def _fill_map(mapping: Any, entry: Descriptor, depth: int) -> None:
    value = entry.fields_by_name["value"]
    if value.message_type is None:
        mapping["example"] = _scalar(value)
    elif depth < DEEP:
        _fill_message(mapping["example"], depth + 1)


def _add(items: Any, field: FieldDescriptor, depth: int) -> None:
    if field.message_type is None:
        items.append(_scalar(field))
    elif depth < DEEP:
        _fill_message(items.add(), depth + 1)


def _fill_message(message: Message, depth: int) -> None:
    if isinstance(message, Timestamp):
        message.FromDatetime(AT)
    elif isinstance(message, Struct):
        message.update({"feed": "XNAS-ITCH"})
    elif isinstance(message, Value):
        message.string_value = "XNAS-ITCH"
    elif isinstance(message, ListValue):
        message.append("XNAS-ITCH")
    elif depth <= DEEP:
        _fill(message, depth)


def _scalar(field: FieldDescriptor) -> Any:
    if field.enum_type is not None:
        numbers = [value.number for value in field.enum_type.values]
        return next((n for n in numbers if n != 0), numbers[0])
    if field.type == _T.TYPE_STRING:
        if field.name == "id" or field.name.endswith("_id"):
            return str(uuid.uuid5(uuid.NAMESPACE_URL, "tradeops:" + field.name))
        return TEXT.get(field.name, field.name.replace("_", " "))
    return _NUMBERS.get(field.type, 1)
