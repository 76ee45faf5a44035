"""What the drills' clients send: incidents that are never repeats, audit events of their own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from tradeops.audit.v1 import audit_service_pb2 as audit_pb2
from tradeops.common.v1 import common_pb2


def incident() -> dict[str, Any]:
    return {
        "source": "md-gateway-ny4",
        "kind": "market_data_latency",
        "desk": "equities",
        "subject": f"DRILL-{uuid.uuid4().hex[:12]}",  # a new subject: never a repeat
        "summary": "ITCH feed latency above 800 ms",
        "metrics": {"latency_ms": 850.0},
    }


def event() -> audit_pb2.AuditEvent:
    event_id = str(uuid.uuid4())
    message = audit_pb2.AuditEvent(
        event_id=event_id,
        actor=common_pb2.Actor(subject="drill-producer", kind="service"),
        action="drill.event.appended",
        target=f"drill/{event_id}",
        outcome="success",
        payload_json='{"drill": true}',
        source="drill-producer",  # appended as svc:drill-producer, its own source
    )
    message.occurred_at.FromDatetime(datetime.now(UTC))
    return message
