"""Audit records as the export writes them: their proto3 JSON mapping (as_dict) and, for JSON
Lines, that mapping's canonical JSON built straight from the message (jsonl_line).

jsonl_line(record) == canonical_json(as_dict(record)), byte for byte, at a fraction of the cost:
a million-record extract spent most of its time building a dict per record and sorting its keys
again. The record's shape is fixed by the contract, so the keys are written in sorted order here
and only the values are escaped (by json's own C escaper, as json.dumps does). A record with an
unset message field takes the general path, which leaves that key out. AuditPage is one
message's page of records as the extract writer takes it (service/audit_pages.Page)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from runtime import proto_json
from runtime.canonical import canonical_json
from tradeops.audit.v1 import audit_service_pb2 as audit_pb2

# json.dumps(ensure_ascii=False) escapes strings with exactly this function.
_text = cast(Any, json.encoder).encode_basestring


def jsonl_line(record: audit_pb2.AuditRecord) -> str:
    """The record's canonical JSON and a newline."""
    event = record.event
    if not (
        record.HasField("event")
        and record.HasField("recorded_at")
        and event.HasField("occurred_at")
        and event.HasField("actor")
    ):
        return canonical_json(as_dict(record)) + "\n"
    actor = event.actor
    roles = ",".join([_text(role) for role in actor.roles])
    return (
        f'{{"event":{{"action":{_text(event.action)},"actor":{{"desk":{_text(actor.desk)},'
        f'"kind":{_text(actor.kind)},"logic_version":{_text(actor.logic_version)},'
        f'"roles":[{roles}],"subject":{_text(actor.subject)}}},'
        f'"event_id":{_text(event.event_id)},"occurred_at":"{proto_json.rfc3339(event.occurred_at)}",'
        f'"outcome":{_text(event.outcome)},"payload_json":{_text(event.payload_json)},'
        f'"source":{_text(event.source)},"target":{_text(event.target)},'
        f'"trace_id":{_text(event.trace_id)}}},"leaf_hash":{_text(record.leaf_hash)},'
        f'"payload_sha256":{_text(record.payload_sha256)},"prev_hash":{_text(record.prev_hash)},'
        f'"recorded_at":"{proto_json.rfc3339(record.recorded_at)}","seq":"{record.seq}"}}\n'
    )


def as_dict(record: audit_pb2.AuditRecord) -> dict[str, Any]:
    """The record's proto3 JSON mapping (runtime.proto_json: MessageToDict's output, int64 as a
    string, timestamps RFC 3339, unset messages left out). Export files keep this mapping, the
    contract's own, while the gateway's REST replies use plain names and integers."""
    return cast(dict[str, Any], proto_json.to_dict(record))


@dataclass(frozen=True)
class AuditPage:
    records: Sequence[audit_pb2.AuditRecord]

    @property
    def seqs(self) -> list[int]:
        return [record.seq for record in self.records]

    def jsonl(self) -> bytes:
        return "".join([jsonl_line(record) for record in self.records]).encode("utf-8")

    def mappings(self) -> Iterator[dict[str, Any]]:
        return (as_dict(record) for record in self.records)
