"""Bodies and query strings of /exports: new exports, verification, redelivery, schedules."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from gateway.bodies.base import (
    MAX_INT64,
    Id,
    QueryModel,
    Rfc3339,
    Seq,
    StrictModel,
    check_window,
    copy_window,
    example,
)
from gateway.bodies.export_parameters import ExportParameters, struct_of
from gateway.rest_json import number_of
from tradeops.common.v1 import common_pb2
from tradeops.export.v1 import export_service_pb2 as pb

Kind = Literal[
    "audit_extract", "actions_report", "incidents_report", "compliance_checks", "evidence_pack"
]


Format = Literal["jsonl", "csv"]


# ExportState's REST names (gateway.rest_json), as replies spell them.
State = Literal[
    "REQUESTED", "GENERATING", "SIGNED", "DELIVERING", "DELIVERED", "VERIFIED", "FAILED"
]


# A configured destination's name; empty: none (or, on redelivery, the export's own).
Destination = Annotated[str, Field(max_length=128, pattern=r"^[A-Za-z0-9._-]*$")]


ClientKey = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


ToSeq = Annotated[int, Field(ge=-1, le=MAX_INT64, description="-1: up to the latest checkpoint")]


class _Window(StrictModel):
    since: Rfc3339 | None = Field(None, description="At or after (RFC 3339)")
    until: Rfc3339 | None = Field(None, description="Before (RFC 3339)")

    @model_validator(mode="after")
    def _ordered(self) -> _Window:
        check_window(self.since, self.until)
        return self


class NewExport(_Window):
    """An audit extract takes a seq range (from_seq..to_seq) or a time range (since/until),
    not both; the reports take a time range, an evidence pack neither."""

    model_config = example(
        {
            "kind": "actions_report",
            "format": "csv",
            "since": "2026-01-01T00:00:00Z",
            "until": "2026-02-01T00:00:00Z",
            "parameters": {"state": "EXECUTED"},
        }
    )

    kind: Kind
    format: Format = "jsonl"
    from_seq: Seq | None = None
    to_seq: ToSeq | None = None
    destination: Destination = ""
    client_key: ClientKey | None = None
    parameters: ExportParameters = Field(default_factory=ExportParameters)

    @model_validator(mode="after")
    def _one_range(self) -> NewExport:
        by_seq = self.from_seq is not None or self.to_seq is not None
        if by_seq and self.kind != "audit_extract":
            raise ValueError("from_seq/to_seq apply to audit_extract only; use since/until")
        if by_seq and (self.since or self.until):
            raise ValueError("give a seq range (from_seq/to_seq) or a time range, not both")
        to_seq = -1 if self.to_seq is None else self.to_seq
        if to_seq != -1 and to_seq < (self.from_seq or 0):
            raise ValueError("to_seq must be -1 or at least from_seq")
        return self

    def to_message(self, idempotency_key: str | None) -> pb.CreateExportRequest:
        by_seq = self.kind == "audit_extract" and not (self.since or self.until)
        message = pb.CreateExportRequest(
            kind=self.kind,
            format=self.format,
            from_seq=(self.from_seq or 0) if by_seq else 0,
            to_seq=(-1 if self.to_seq is None else self.to_seq) if by_seq else 0,
            destination=self.destination,
            client_key=self.client_key or idempotency_key or "",
            parameters=struct_of(self.parameters),
        )
        copy_window(message, self.since, self.until)
        return message


class VerifyMany(_Window):
    """Either ids, or every signed export created in [since, until)."""

    model_config = example({"ids": ["9a1b7c3d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"]})

    ids: Annotated[list[Id], Field(max_length=500)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_or_window(self) -> VerifyMany:
        if self.ids and (self.since or self.until):
            raise ValueError("give ids or a time range, not both")
        return self

    def to_message(self) -> pb.VerifyExportsRequest:
        message = pb.VerifyExportsRequest(ids=[str(one) for one in self.ids])
        copy_window(message, self.since, self.until)
        return message


class Redelivery(StrictModel):
    destination: Destination = ""

    def to_message(self, export_id: str) -> pb.RedeliverExportRequest:
        return pb.RedeliverExportRequest(id=export_id, destination=self.destination)


class ScheduleBody(StrictModel):
    model_config = example(
        {
            "name": "daily-audit-to-regulator",
            "cron": "0 6 * * 1-5",
            "time_zone": "Europe/London",
            "kind": "audit_extract",
            "format": "jsonl",
        }
    )

    name: Annotated[
        str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    ] = Field(examples=["daily-audit-to-regulator"])
    cron: Annotated[str, Field(min_length=9, max_length=128, examples=["0 6 * * 1-5"])]
    time_zone: Annotated[str, Field(max_length=64, examples=["Europe/London"])] = ""
    kind: Kind
    format: Format = "jsonl"
    parameters: ExportParameters = Field(default_factory=ExportParameters)
    destination: Destination = ""
    enabled: bool = True

    def to_message(self, schedule_id: str = "") -> pb.PutScheduleRequest:
        schedule = pb.Schedule(
            id=schedule_id,
            **self.model_dump(exclude={"parameters"}),
            parameters=struct_of(self.parameters),
        )
        return pb.PutScheduleRequest(schedule=schedule)


class ExportQuery(QueryModel):
    """Every filter given must match; newest first."""

    state: State | None = None
    kind: Kind | None = None
    page_size: Annotated[int, Field(ge=1, le=500)] = 50
    page_token: Annotated[str, Field(max_length=1024)] = ""
    client_key: ClientKey | None = Field(
        None,
        description="Only your own export created with this client_key or Idempotency-Key",
    )

    def to_message(self) -> pb.ListExportsRequest:
        return pb.ListExportsRequest(
            state=number_of(pb.ExportState, self.state or "UNSPECIFIED"),
            kind=self.kind or "",
            page=common_pb2.PageRequest(page_size=self.page_size, page_token=self.page_token),
            client_key=self.client_key or "",
        )
