"""The JSON Lines an audit extract writes are the canonical JSON of each record's proto3 JSON
mapping, however the record is built, byte for byte."""

from __future__ import annotations

import pytest
from google.protobuf.json_format import MessageToDict

from runtime.canonical import canonical_json
from services.export.clients.audit_records import jsonl_line
from tests.export.conftest import audit_record
from tradeops.audit.v1 import audit_service_pb2 as audit_pb2
from tradeops.common.v1 import common_pb2


def _awkward() -> audit_pb2.AuditRecord:
    record = audit_record(12)
    event = record.event
    event.payload_json = '{"note":"line\\nbreak \\"quoted\\" \\\\ back\\u0001slash","€":"ünï"}'
    event.target = 'action/"odd"\n\t\x00\u2028'
    event.actor.CopyFrom(
        common_pb2.Actor(
            subject="Zoë", roles=["ops", "compliance", ""], kind="agent", logic_version="v2"
        )
    )
    event.actor.desk = "rates-emea/東京"
    event.occurred_at.nanos = 123_456_789
    record.recorded_at.nanos = 5_000
    record.prev_hash = "0" * 64
    return record


def _no_roles() -> audit_pb2.AuditRecord:
    record = audit_record(3)
    del record.event.actor.roles[:]
    return record


def _unset(field: str) -> audit_pb2.AuditRecord:
    record = audit_record(4)
    if field == "event":
        record.ClearField("event")
    elif field == "recorded_at":
        record.ClearField("recorded_at")
    elif field == "event.actor":
        record.event.ClearField("actor")
    else:
        record.event.ClearField("occurred_at")
    return record


@pytest.mark.parametrize(
    "record",
    [
        audit_record(0),
        audit_record(987_654),
        _awkward(),
        _no_roles(),
        _unset("event"),
        _unset("recorded_at"),
        _unset("event.actor"),
        _unset("event.occurred_at"),
        audit_pb2.AuditRecord(),
    ],
    ids=[
        "plain",
        "large-seq",
        "escapes-and-unicode",
        "no-roles",
        "no-event",
        "no-recorded-at",
        "no-actor",
        "no-occurred-at",
        "empty",
    ],
)
def test_a_line_is_the_canonical_json_of_the_records_json_mapping(
    record: audit_pb2.AuditRecord,
) -> None:
    mapping = MessageToDict(
        record, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )

    assert jsonl_line(record) == canonical_json(mapping) + "\n"
