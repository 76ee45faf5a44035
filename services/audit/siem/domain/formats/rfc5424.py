"""RFC 5424 syslog messages: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`.

Audit fields go in one SD-ELEMENT `tradeops@32473` (32473 is the private enterprise number that
RFC 5612 reserves for documentation). MSG is plain UTF-8 without a BOM (MSG-ANY). A checkpoint's
MSG is its signed note on one line, escaped by fields.escape_lines (backslash, \\n, \\r)."""

from __future__ import annotations

from collections.abc import Iterable

from services.audit.log import Record, rfc3339
from services.audit.siem.domain.batches import Checkpoint
from services.audit.siem.domain.formats import fields

APP_NAME = "tradeops-audit"
SD_ID = "tradeops@32473"
NIL = "-"


def record_message(record: Record, *, hostname: str, facility: int) -> bytes:
    pri = facility * 8 + fields.syslog_severity(record.event.outcome)
    sd = structured_data(fields.record_params(record))
    stamp = rfc3339(record.event.occurred_at)
    return message(pri, stamp, hostname, "audit", sd, fields.summary(record))


def checkpoint_message(checkpoint: Checkpoint, *, hostname: str, facility: int) -> bytes:
    pri = facility * 8 + fields.CHECKPOINT_SEVERITY
    sd = structured_data(fields.checkpoint_params(checkpoint))
    stamp = rfc3339(checkpoint.created_at)
    note = fields.escape_lines(checkpoint.note)
    return message(pri, stamp, hostname, "checkpoint", sd, note)


def message(pri: int, timestamp: str, hostname: str, msgid: str, sd: str, msg: str) -> bytes:
    header = f"<{pri}>1 {timestamp} {hostname or NIL} {APP_NAME} {NIL} {msgid}"
    return f"{header} {sd} {msg}".encode()


def structured_data(params: Iterable[tuple[str, str]]) -> str:
    body = "".join(f' {name}="{escape_param(value)}"' for name, value in params)
    return f"[{SD_ID}{body}]"


def escape_param(value: str) -> str:
    """PARAM-VALUE escaping (RFC 5424 section 6.3.3): '"', '\\' and ']' get a backslash."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")
