"""Large seq-range extracts can be read as several concurrent streams, each written to its own
segment file, then joined (and hashed) into the data file. This paid off while a stream carried
one record per message (a Python stream tops out near 10,000 messages/s); with pages of records
(StreamRecordPages) one stream is faster than the join costs, so STREAMS is 1 and splitting is
kept for a peer that pages slowly. Memory stays bounded: each stream holds one page at a time.
Only ranges the checkpoint vouches for complete are split, so every segment must hold
exactly its seqs; the audit service sees (and audits) one read per segment."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from runtime.auth import Principal
from services.export.domain.exports import Export, ExportFile
from services.export.service.audit_pages import PageEncoder, Pages, checked, write_pages
from services.export.service.files import PartialFile

STREAMS, MIN_SEGMENT = 1, 50_000
CHUNK = 1 << 20


class PageReader(Protocol):
    def pages(self, from_seq: int, to_seq: int, caller: Principal) -> Pages: ...


def split(export: Export) -> list[tuple[int, int]]:
    """The inclusive seq ranges to read concurrently; one range when not worth splitting."""
    size = export.to_seq - export.from_seq + 1
    if export.by_time or not export.checkpoint_size or size < 2 * MIN_SEGMENT:
        return [(export.from_seq, export.to_seq)]
    count = min(STREAMS, size // MIN_SEGMENT)
    step = -(-size // count)
    starts = range(export.from_seq, export.to_seq + 1, step)
    return [(start, min(start + step - 1, export.to_seq)) for start in starts]


async def write_segment(
    directory: Path,
    name: str,
    index: int,
    span: tuple[int, int],
    reader: PageReader,
    caller: Principal,
    encoder: PageEncoder,
) -> ExportFile:
    pages = checked(reader.pages(span[0], span[1], caller), *span, whole=True)
    return await write_pages(directory, f"{name}.{index}", pages, encoder)


def join(directory: Path, name: str, parts: list[ExportFile]) -> ExportFile:
    """Blocking: concatenates the segments into `name` (hashing as it goes), removing them."""
    out = PartialFile(directory, name)
    try:
        for part in parts:
            with (directory / part.name).open("rb") as source:
                while chunk := source.read(CHUNK):
                    out.write(chunk)
            out.count_records(part.record_count)
        joined = out.publish()
    except BaseException:
        out.discard()
        raise
    for part in parts:
        (directory / part.name).unlink(missing_ok=True)
    return joined
