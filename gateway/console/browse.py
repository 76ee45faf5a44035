"""The pages for looking things up: incidents (by time, a page at a time) and audit records
(by target, actor, action and time, following the log's seq order), each record with the
"verify" that checks its inclusion proof in the reader's browser (static/verify-page.js)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.bodies.base import MAX_INT64
from gateway.console.guard import SignedIn
from gateway.console.render import render
from gateway.deps import as_json
from gateway.errors import ApiError
from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.audit.v1 import audit_service_pb2 as audit_pb

router = APIRouter(prefix="/console", include_in_schema=False)

PAGE = 50
Text = Annotated[str, Query(max_length=200)]


@router.get("/incidents")
async def incidents(
    request: Request,
    person: SignedIn,
    since: Text = "",
    until: Text = "",
    page: Annotated[str, Query(max_length=500)] = "",
) -> HTMLResponse:
    query = agent_pb.ListIncidentsRequest()
    query.page.page_size, query.page.page_token = PAGE, page
    _set_time(query.created_after, since, "since")
    _set_time(query.created_before, until, "until")
    rpc = person.rpc(request)
    reply = await rpc.peers.agent.ListIncidents(query, timeout=rpc.timeout, metadata=rpc.metadata)
    shown = as_json(reply)
    filters = {"since": since, "until": until}
    return render(
        request, "incidents.html", person=person, nav="incidents", filters=filters, **shown
    )


@router.get("/audit")
async def audit(
    request: Request,
    person: SignedIn,
    target: Text = "",
    actor: Text = "",
    action: Text = "",
    since: Text = "",
    until: Text = "",
    after: Annotated[int, Query(ge=-1)] = -1,
) -> HTMLResponse:
    query = audit_pb.ListRecordsRequest(
        after_seq=after, limit=PAGE, target=target, actor=actor, action=action
    )
    _set_time(query.since, since, "since")
    _set_time(query.until, until, "until")
    rpc = person.rpc(request)
    reply = await rpc.peers.audit.ListRecords(query, timeout=rpc.timeout, metadata=rpc.metadata)
    filters = {"target": target, "actor": actor, "action": action, "since": since, "until": until}
    return render(
        request, "audit.html", person=person, nav="audit", filters=filters, **as_json(reply)
    )


@router.get("/audit/{seq}")
async def record(
    request: Request, person: SignedIn, seq: Annotated[int, Path(ge=0, le=MAX_INT64)]
) -> HTMLResponse:
    """One record, and its check in the reader's browser against the latest signed checkpoint
    (static/verify-page.js, with the audit reads of gateway.console.data)."""
    rpc = person.rpc(request)
    query = audit_pb.ListRecordsRequest(after_seq=seq - 1, limit=1)
    reply = await rpc.peers.audit.ListRecords(query, timeout=rpc.timeout, metadata=rpc.metadata)
    found = [r for r in as_json(reply)["records"] if r["seq"] == seq]
    if not found:
        raise ApiError(404, "NOT_FOUND", f"the audit log has no record {seq}")
    return render(request, "record.html", person=person, nav="audit", record=found[0])


def _set_time(field: Timestamp, text: str, name: str) -> None:
    """A filter's time as the form sends it (datetime-local, read as UTC) or RFC 3339."""
    if not text:
        return
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "INVALID_ARGUMENT", f"{name}: not a date and time: {text!r}") from None
    field.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
