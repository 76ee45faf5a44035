"""The console's own audit events: signing in and out. The gateway owns no database, so it
appends them to the audit log itself (as gateway.console) and waits for them to be durable: a
sign-in the log cannot record does not happen."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request

from runtime.auth import Principal
from runtime.clients import bearer
from runtime.outbox import new_event, person
from runtime.relay import audit_event
from tradeops.audit.v1 import audit_service_pb2 as audit_pb

SOURCE = "gateway.console"


async def record(
    request: Request,
    principal: Principal,
    action: str,
    payload: dict[str, Any],
    event_id: str = "",
) -> bool:
    """Appends the event; True when an event of the same id was in the log already."""
    fresh = new_event(
        source=SOURCE,
        actor=person(principal),
        action=action,
        target=f"person/{principal.subject}",
        payload=payload,
    )
    event = {**fresh, "event_id": event_id or str(uuid.uuid4())}
    state = request.app.state
    reply = await state.peers.audit.AppendEvents(
        audit_pb.AppendEventsRequest(events=[audit_event(event)]),
        timeout=state.settings.rpc_timeout_s,
        metadata=bearer(state.identity.token("audit")),
    )
    return bool(reply.results[0].duplicate)
