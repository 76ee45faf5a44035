"""The sequencer's rows as text built in one piece per table: the records in COPY text format,
payloads and Merkle nodes as PostgreSQL array literals (one parameter per column, so they go in
one pipelined round trip with the head update, see appends.py). psycopg's `write_row` or its
list dumpers cost several microseconds of Python per row; joining pre-escaped fields costs a
fraction of that, and the sequencer's per-event CPU is what bounds the append rate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.audit.log.domain.records import Record, rfc3339

RECORD_COLUMNS = (
    "seq, event_id, occurred_at, actor, action, target, outcome, trace_id, source,"
    " payload_sha256, prev_hash, leaf_hash"
)
COPY_RECORDS = f"COPY audit.records ({RECORD_COLUMNS}) FROM STDIN"


@dataclass(frozen=True)
class CopyTexts:
    records: str  # COPY text
    payload_seqs: str  # array literals, one per column
    payloads: str
    node_levels: str
    node_indexes: str
    node_hashes: str  # hex


def texts(records: Sequence[Record], nodes: Sequence[tuple[int, int, bytes]]) -> CopyTexts:
    return CopyTexts(
        records_text(records),
        _array(str(r.seq) for r in records),
        _array(_element(r.event.payload_json) for r in records),
        _array(str(level) for level, _, _ in nodes),
        _array(str(index) for _, index, _ in nodes),
        _array(value.hex() for _, _, value in nodes),
    )


def _array(elements: Iterable[str]) -> str:
    return "{" + ",".join(elements) + "}"


def _element(value: str | None) -> str:
    """An array element: quoted, with its quotes and backslashes escaped; NULL for None."""
    if value is None:
        return "NULL"
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


# COPY text format: a backslash starts an escape, tab separates columns, newline ends the row.
_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_SPECIAL)
    return value


def records_text(records: Sequence[Record]) -> str:
    return "".join(map(_record_line, records))


def _record_line(record: Record) -> str:
    event = record.event
    line = (
        f"{record.seq}\t{event.event_id}\t{rfc3339(event.occurred_at)}\t{event.actor.canonical}\t"
        f"{event.action}\t{event.target}\t{event.outcome}\t{event.trace_id}\t{event.source}\t"
        f"{record.payload_sha256}\t{record.prev_hash}\t{record.leaf_hash}"
    )
    # Nearly every row needs no escaping: four scans of the whole line prove it.
    if line.count("\t") == 11 and "\\" not in line and "\n" not in line and "\r" not in line:
        return line + "\n"
    return _escaped_line(record)


def _escaped_line(record: Record) -> str:
    event = record.event
    fields = (
        event.event_id,
        rfc3339(event.occurred_at),
        event.actor.canonical,
        event.action,
        event.target,
        event.outcome,
        event.trace_id,
        event.source,
        record.payload_sha256,
        record.prev_hash,
        record.leaf_hash,
    )
    return "\t".join([str(record.seq), *map(_text, fields)]) + "\n"
