"""What a valid export request is: kinds, formats, ranges, filters, paging and ids."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runtime.errors import InvalidArgument
from services.export.domain.exports import TO_END, Export, ExportState, ExtractError, now

AUDIT_EXTRACT, ACTIONS_REPORT = "audit_extract", "actions_report"
INCIDENTS_REPORT, COMPLIANCE_CHECKS = "incidents_report", "compliance_checks"
EVIDENCE_PACK = "evidence_pack"
KINDS = frozenset(
    {AUDIT_EXTRACT, ACTIONS_REPORT, INCIDENTS_REPORT, COMPLIANCE_CHECKS, EVIDENCE_PACK}
)
FORMATS = frozenset({"jsonl", "csv"})
# Filters each kind understands; anything else is a mistake worth refusing.
FILTERS: Mapping[str, frozenset[str]] = {
    AUDIT_EXTRACT: frozenset(),
    ACTIONS_REPORT: frozenset({"state", "kind"}),
    INCIDENTS_REPORT: frozenset({"kind", "desk"}),
    COMPLIANCE_CHECKS: frozenset({"run_id", "check_id", "status"}),
    EVIDENCE_PACK: frozenset({"action_id"}),
}
STATUSES = frozenset({"pass", "fail", "error"})
DEFAULT_LIMIT, MAX_LIMIT, MAX_CLIENT_KEY = 50, 500, 200


@dataclass(frozen=True)
class ExportRequest:
    kind: str
    format: str = ""
    from_seq: int = 0
    to_seq: int = TO_END
    since: datetime | None = None
    until: datetime | None = None
    destination: str = ""
    client_key: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    requested_by: str = ""  # whom a service requests for; empty: the caller


def new_export(request: ExportRequest, requested_by: str) -> Export:
    """A REQUESTED export for a valid request; InvalidArgument names what is wrong."""
    validate(request)
    at = now()
    return Export(
        id=str(uuid.uuid4()),
        kind=request.kind,
        state=ExportState.REQUESTED,
        requested_by=requested_by,
        created_at=at,
        updated_at=at,
        format=request.format or "jsonl",
        from_seq=request.from_seq,
        to_seq=request.to_seq,
        since=request.since,
        until=request.until,
        parameters=dict(request.parameters),
        destination=request.destination,
        client_key=request.client_key,
    )


def validate(request: ExportRequest) -> None:
    if request.kind not in KINDS:
        raise InvalidArgument(f"kind must be one of {sorted(KINDS)}, not {request.kind!r}")
    if (request.format or "jsonl") not in FORMATS:
        raise InvalidArgument(f"format must be one of {sorted(FORMATS)}, not {request.format!r}")
    if len(request.client_key) > MAX_CLIENT_KEY:
        raise InvalidArgument(f"client_key must be at most {MAX_CLIENT_KEY} characters")
    unknown = set(request.parameters) - FILTERS[request.kind]
    if unknown:
        raise InvalidArgument(f"unknown parameters for {request.kind}: {sorted(unknown)}")
    if request.kind == COMPLIANCE_CHECKS:
        _validate_compliance(request)
    if request.kind == EVIDENCE_PACK:
        _validate_evidence(request)
    _validate_span(request)


def _validate_texts(request: ExportRequest) -> None:
    for name, value in request.parameters.items():
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_CLIENT_KEY:
            raise InvalidArgument(f"parameter {name} must be a text of 1 to 200 characters")


def _validate_compliance(request: ExportRequest) -> None:
    _validate_texts(request)
    status = request.parameters.get("status")
    if status is not None and status not in STATUSES:
        raise InvalidArgument(f"status must be one of {sorted(STATUSES)}, not {status!r}")


def _validate_evidence(request: ExportRequest) -> None:
    _validate_texts(request)
    if "action_id" not in request.parameters:
        raise InvalidArgument("an evidence_pack needs parameters.action_id")
    if (request.format or "jsonl") != "jsonl":
        raise InvalidArgument("an evidence_pack is written as JSON Lines only (format jsonl)")
    if request.since or request.until:
        raise InvalidArgument("an evidence_pack takes no time range")


def _validate_span(request: ExportRequest) -> None:
    if request.since and request.until and request.until <= request.since:
        raise InvalidArgument("until must be later than since")
    if request.kind != AUDIT_EXTRACT:
        if (request.from_seq, request.to_seq) not in ((0, 0), (0, TO_END)):
            raise InvalidArgument(f"{request.kind} takes since/until, not a seq range")
        return
    by_time = request.since is not None or request.until is not None
    if by_time and (request.from_seq, request.to_seq) not in ((0, 0), (0, TO_END)):
        raise InvalidArgument("give a seq range or a time range, not both")
    if request.from_seq < 0:
        raise InvalidArgument("from_seq must be 0 or more")
    if request.to_seq != TO_END and request.to_seq < request.from_seq:
        raise InvalidArgument("to_seq must be -1 (to the end) or at least from_seq")


def check_complete(export: Export, record_count: int) -> None:
    """A checkpoint vouches that every record up to to_seq exists: a short stream is broken."""
    expected = export.to_seq - export.from_seq + 1
    if export.checkpoint_size and not export.by_time and record_count != expected:
        raise ExtractError(f"audit service sent {record_count} records where {expected} exist")


def check_next_seq(seq: int, expected: int, to_seq: int) -> None:
    """The log is gapless, so an extract is too: a hole or a record past the range means the
    audit service (or something between) is broken, and the file must not be published."""
    if seq != expected:
        raise ExtractError(f"audit service sent seq {seq} where {expected} was expected")
    if to_seq != TO_END and seq > to_seq:
        raise ExtractError(f"audit service sent seq {seq}, past the requested to_seq {to_seq}")


def page_limit(limit: int) -> int:
    if limit < 0:
        raise InvalidArgument("page size must be 0 (the default of 50) or more")
    return min(limit or DEFAULT_LIMIT, MAX_LIMIT)


def parse_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InvalidArgument(f"export id must be a UUID, not {text!r}") from None
