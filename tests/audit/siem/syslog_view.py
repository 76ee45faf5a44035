"""What a test reads back from the private rsyslogd: the parsed structured data per message."""

from __future__ import annotations

import re
from typing import Any

from services.audit.log.domain.records import Record
from tests.audit.siem.rsyslog import Rsyslog

SD_ID = "tradeops@32473"


def audit_fields(message: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = message.get("$!", {}).get("rfc5424-sd", {}).get(SD_ID, {})
    return fields


def received(syslog: Rsyslog, msgid: str) -> list[dict[str, Any]]:
    return [message for message in syslog.messages() if message.get("msgid") == msgid]


def seqs_at(syslog: Rsyslog) -> set[int]:
    return {int(audit_fields(message)["seq"]) for message in received(syslog, "audit")}


def sizes_at(syslog: Rsyslog) -> set[int]:
    return {int(audit_fields(message)["tree_size"]) for message in received(syslog, "checkpoint")}


def expected_fields(record: Record) -> dict[str, str]:
    e = record.event
    return {
        "seq": str(record.seq),
        "event_id": e.event_id,
        "actor": e.actor.subject,
        "actor_kind": e.actor.kind,
        "action": e.action,
        "target": e.target,
        "outcome": e.outcome,
        "trace_id": e.trace_id,
        "source": e.source,
        "leaf_hash": record.leaf_hash,
    }


def unescape(line: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), line)
