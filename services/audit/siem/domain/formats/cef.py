"""ArcSight CEF lines: `CEF:0|tradeops|audit|1.0|<signature id>|<name>|<severity>|<extension>`.

Header fields escape '\\' and '|'; extension values escape '\\' and '='; newlines become \\n
and \\r in both. Custom strings: cs1 seq (or tree size), cs2 actor kind (or root hash), cs3
target (or key id), cs4 trace id, cs5 leaf hash, cs6 source."""

from __future__ import annotations

from collections.abc import Iterable

from services.audit.log import Record
from services.audit.siem.domain.batches import Checkpoint
from services.audit.siem.domain.formats import fields

PREFIX = "CEF:0|tradeops|audit|1.0"
# CEF severities 0-10: low, medium, high.
SEVERITY = {"success": 3, "denied": 6, "failure": 8}


def record_line(record: Record) -> str:
    event = record.event
    extension = [
        ("rt", str(fields.epoch_ms(event.occurred_at))),
        ("externalId", event.event_id),
        ("suser", event.actor.subject),
        ("act", event.action),
        ("outcome", event.outcome),
        *_custom(
            ("seq", str(record.seq)),
            ("actorKind", event.actor.kind),
            ("target", event.target),
            ("traceId", event.trace_id),
            ("leafHash", record.leaf_hash),
            ("source", event.source),
        ),
        ("msg", fields.summary(record)),
    ]
    name = f"{event.action} {event.outcome}"
    return _line(event.action, name, SEVERITY.get(event.outcome, 6), extension)


def checkpoint_line(checkpoint: Checkpoint) -> str:
    extension = [
        ("rt", str(fields.epoch_ms(checkpoint.created_at))),
        *_custom(
            ("treeSize", str(checkpoint.tree_size)),
            ("rootHash", checkpoint.root_hash),
            ("keyId", checkpoint.key_id),
        ),
        ("msg", checkpoint.note),
    ]
    return _line("audit.checkpoint", "signed checkpoint", 3, extension)


def _custom(*labelled: tuple[str, str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for number, (label, value) in enumerate(labelled, start=1):
        pairs += [(f"cs{number}", value), (f"cs{number}Label", label)]
    return pairs


def _line(signature: str, name: str, severity: int, extension: Iterable[tuple[str, str]]) -> str:
    header = "|".join(escape_header(part) for part in (signature, name))
    pairs = " ".join(f"{key}={escape_extension(value)}" for key, value in extension)
    return f"{PREFIX}|{header}|{severity}|{pairs}"


def escape_header(value: str) -> str:
    return _newlines(value.replace("\\", "\\\\").replace("|", "\\|"))


def escape_extension(value: str) -> str:
    return _newlines(value.replace("\\", "\\\\").replace("=", "\\="))


def _newlines(value: str) -> str:
    return value.replace("\n", "\\n").replace("\r", "\\r")
