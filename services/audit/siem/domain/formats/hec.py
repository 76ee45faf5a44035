"""Splunk HTTP Event Collector events: one JSON object per record or checkpoint,
`{"time": <epoch seconds>, "host", "source": "tradeops-audit", "sourcetype": "tradeops:audit",
"event": {...}}`; `event.kind` tells "record" from "checkpoint". A batch is the objects one after
another, newline-separated, as HEC's /services/collector/event accepts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from services.audit.log import Record, rfc3339
from services.audit.siem.domain.batches import Checkpoint

SOURCE = "tradeops-audit"
SOURCETYPE = "tradeops:audit"


def record_event(record: Record, *, hostname: str) -> bytes:
    event = record.event
    body = {
        "kind": "record",
        "seq": record.seq,
        "event_id": event.event_id,
        "occurred_at": rfc3339(event.occurred_at),
        "actor": event.actor.as_dict(),
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome,
        "trace_id": event.trace_id,
        "source": event.source,
        "payload_sha256": record.payload_sha256,
        "prev_hash": record.prev_hash,
        "leaf_hash": record.leaf_hash,
    }
    return _envelope(event.occurred_at, hostname, body)


def checkpoint_event(checkpoint: Checkpoint, *, hostname: str) -> bytes:
    body = {
        "kind": "checkpoint",
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "key_id": checkpoint.key_id,
        "created_at": rfc3339(checkpoint.created_at),
        "note": checkpoint.note,
    }
    return _envelope(checkpoint.created_at, hostname, body)


def _envelope(moment: datetime, hostname: str, event: dict[str, Any]) -> bytes:
    envelope = {
        "time": round(moment.timestamp(), 6),
        "host": hostname,
        "source": SOURCE,
        "sourcetype": SOURCETYPE,
        "event": event,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
