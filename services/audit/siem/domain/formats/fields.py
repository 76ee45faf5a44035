"""The audit fields every SIEM format carries, in one order. Payloads stay out: they can be
redacted in the log later, and a copy in the SIEM could not be; payload_sha256 stays in the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.audit.log import Record
from services.audit.siem.domain.batches import Checkpoint

# Syslog severities (RFC 5424 section 6.2.1): info, warning, error.
SYSLOG_SEVERITY = {"success": 6, "denied": 4, "failure": 3}
CHECKPOINT_SEVERITY = 6
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def record_params(record: Record) -> list[tuple[str, str]]:
    event = record.event
    return [
        ("seq", str(record.seq)),
        ("event_id", event.event_id),
        ("actor", event.actor.subject),
        ("actor_kind", event.actor.kind),
        ("action", event.action),
        ("target", event.target),
        ("outcome", event.outcome),
        ("trace_id", event.trace_id),
        ("source", event.source),
        ("leaf_hash", record.leaf_hash),
    ]


def checkpoint_params(checkpoint: Checkpoint) -> list[tuple[str, str]]:
    return [
        ("tree_size", str(checkpoint.tree_size)),
        ("root_hash", checkpoint.root_hash),
        ("key_id", checkpoint.key_id),
    ]


def syslog_severity(outcome: str) -> int:
    # An outcome the log does not know is worth a look, not silence.
    return SYSLOG_SEVERITY.get(outcome, 4)


def summary(record: Record) -> str:
    event = record.event
    return f"{event.actor.subject} {event.action} {event.target}: {event.outcome}"


def escape_lines(text: str) -> str:
    """The note on one line, reversibly: backslash first, then newline and carriage return."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def epoch_ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)
