"""A day of audit events with known figures, appended through the real audit contract."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import grpc

from runtime.clients import bearer
from tests.agent.compliance.helpers import Token
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.common.v1 import common_pb2

# Wednesday 1 May 2024; London is on BST (UTC+1), so desk hours 07:00-19:00 are 06:00-18:00 UTC.
SINCE = datetime(2024, 5, 1, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=1)


def event(
    at: datetime,
    action: str,
    actor: str,
    *,
    kind: str = "person",
    outcome: str = "success",
    payload: dict[str, object] | None = None,
) -> pb.AuditEvent:
    made = pb.AuditEvent(
        event_id=str(uuid.uuid4()),
        actor=common_pb2.Actor(subject=actor, roles=["ops"], kind=kind),
        action=action,
        target="action/1",
        outcome=outcome,
        payload_json=json.dumps(payload or {}, separators=(",", ":"), sort_keys=True),
        source="ops",
    )
    made.occurred_at.FromDatetime(at)
    return made


def day() -> list[pb.AuditEvent]:
    hour = timedelta(hours=1)
    baseline = [
        event(SINCE - 24 * hour + n * hour, "ops.action.commented", "alice") for n in range(24)
    ]
    comments = [
        event(SINCE + n * hour + timedelta(minutes=10), "ops.action.commented", "alice")
        for n in range(24)
    ]
    at = SINCE + 14 * hour
    refused = [
        event(at + timedelta(minutes=n), "ops.access.denied", "mallory", outcome="denied")
        for n in range(8)
    ]
    at = SINCE + 10 * hour
    votes = [
        event(at, "ops.action.vote_recorded", "olga", payload={"approve": True}),
        event(at, "ops.action.vote_recorded", "owen", payload={"approve": True}),
        event(at, "ops.action.vote_recorded", "ola", payload={"approve": True}),
        event(at, "ops.action.vote_recorded", "oscar", payload={"approve": False}),
        event(at, "ops.action.approved", "olga"),
        event(at, "ops.action.approved", "owen"),
        event(at, "ops.action.rejected", "oscar"),
    ]
    overrides = [event(SINCE + 9 * hour, "agent.triage.overridden", "tom") for _ in range(2)]
    night = [event(SINCE + 2 * hour, "agent.triage.decided", "baseline-rules", kind="agent")]
    outside = [event(UNTIL, "ops.action.commented", "alice")]
    return baseline + comments + refused + votes + overrides + night + outside


async def append_day(audit: audit_grpc.AuditServiceAsyncStub, token_for: Token) -> int:
    """Appends the day in one batch and waits for the signed checkpoint covering it."""
    events = day()
    service = bearer(token_for("svc:ops", "service"))
    await audit.AppendEvents(pb.AppendEventsRequest(events=events), metadata=service, timeout=5)
    for _ in range(100):
        try:
            found = await audit.GetCheckpoint(
                pb.GetCheckpointRequest(), metadata=service, timeout=5
            )
            if found.tree_size >= len(events):
                return len(events)
        except grpc.aio.AioRpcError:  # NOT_FOUND until the first checkpoint is cut
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("no checkpoint covered the appended events")
