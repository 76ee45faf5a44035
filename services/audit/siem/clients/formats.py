"""The message format of a destination, chosen once from its configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from services.audit.log import Record, rfc3339
from services.audit.siem.domain.batches import Checkpoint
from services.audit.siem.domain.formats import cef, fields, hec, rfc5424
from services.audit.siem.settings import Destination


@dataclass(frozen=True)
class Formatter:
    record: Callable[[Record], bytes]
    checkpoint: Callable[[Checkpoint], bytes]


def formatter_for(destination: Destination) -> Formatter:
    host, facility = destination.hostname, destination.facility
    if destination.format == "json":
        return Formatter(
            partial(hec.record_event, hostname=host), partial(hec.checkpoint_event, hostname=host)
        )
    if destination.format == "cef":
        return Formatter(
            partial(_cef_record, host, facility), partial(_cef_checkpoint, host, facility)
        )
    if destination.format == "rfc5424":
        return Formatter(
            partial(rfc5424.record_message, hostname=host, facility=facility),
            partial(rfc5424.checkpoint_message, hostname=host, facility=facility),
        )
    raise ValueError(f"unknown SIEM format {destination.format!r}")


def _cef_record(hostname: str, facility: int, record: Record) -> bytes:
    # CEF over syslog: the CEF line is the MSG of an RFC 5424 message without structured data.
    pri = facility * 8 + fields.syslog_severity(record.event.outcome)
    stamp = rfc3339(record.event.occurred_at)
    return rfc5424.message(pri, stamp, hostname, "audit", rfc5424.NIL, cef.record_line(record))


def _cef_checkpoint(hostname: str, facility: int, checkpoint: Checkpoint) -> bytes:
    pri = facility * 8 + fields.CHECKPOINT_SEVERITY
    stamp = rfc3339(checkpoint.created_at)
    line = cef.checkpoint_line(checkpoint)
    return rfc5424.message(pri, stamp, hostname, "checkpoint", rfc5424.NIL, line)
