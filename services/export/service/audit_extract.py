"""Audit extracts: the records, the checkpoint they were cut at and inclusion proofs.

A seq-range extract holds exactly the records from_seq..to_seq. A time-range extract holds the
records whose recorded_at falls in [since, until): the log is streamed from seq 0 (up to the
checkpoint) and records before `since` are skipped; the stream stops at the first record at or
after `until` (records are sequenced in recorded_at order). proofs.json holds the RFC 9162
inclusion proofs of the first and last record written against the checkpoint; every record's
prev_hash links it to the one before, so the last proof binds the whole range."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from runtime.auth import Principal
from services.export.domain import requests
from services.export.domain.exports import (
    CHECKPOINT_FILE,
    PROOFS_FILE,
    TO_END,
    Checkpoint,
    Export,
    ExportFile,
)
from services.export.domain.formats import encoder
from services.export.service import audit_pages as extract_pages
from services.export.service import segments
from services.export.service.audit_pages import PageEncoder, page_encoder
from services.export.service.files import write_records, write_whole

COLUMNS = (
    "seq", "recorded_at", "event.event_id", "event.occurred_at", "event.actor", "event.action",
    "event.target", "event.outcome", "event.trace_id", "event.source", "event.payload_json",
    "payload_sha256", "prev_hash", "leaf_hash",
)  # fmt: skip


class AuditReader(Protocol):
    async def latest_checkpoint(self, caller: Principal) -> Checkpoint | None:
        """The audit log's latest signed checkpoint, read on behalf of `caller`; None while the
        log has none. Raises like records()."""
        ...

    async def inclusion_proof(self, seq: int, tree_size: int, caller: Principal) -> dict[str, Any]:
        """The RFC 9162 inclusion proof of `seq` in the tree of `tree_size`, as proto3 JSON."""
        ...

    def pages(self, from_seq: int, to_seq: int, caller: Principal) -> extract_pages.Pages:
        """The records from_seq..to_seq (-1: to the end) as pages of consecutive records (the
        contract's messages), read and raising like records()."""
        ...

    def records(
        self, from_seq: int, to_seq: int, caller: Principal
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        """Yields the audit records with from_seq <= seq <= to_seq (-1: to the end) in seq order,
        each as its proto3 JSON mapping with "seq" an int64 string, read on behalf of `caller`
        (the audit service sees who exported). Raises a DomainError: Unavailable when the audit
        service cannot be reached, the caller-fault errors when it refuses the caller."""
        ...


async def write_extract(
    export: Export,
    reader: AuditReader,
    checkpoint: Checkpoint | None,
    caller: Principal,
    directory: Path,
) -> tuple[Export, list[ExportFile]]:
    """Writes the data file (and checkpoint.txt, proofs.json when cut at a checkpoint); returns
    the export with its resolved seq range and the files written, data file first."""
    window = _Window(export)
    data = await _data_file(export, window, reader, caller, directory)
    export = window.resolved(export)
    if not export.by_time:
        requests.check_complete(export, data.record_count)
    files = [data]
    if checkpoint is not None:
        note = checkpoint.note.encode("utf-8")  # the note as signed, byte for byte
        files.append(await asyncio.to_thread(write_whole, directory, CHECKPOINT_FILE, note))
        proofs = await _proofs(export, window, reader, caller)
        files.append(await asyncio.to_thread(write_whole, directory, PROOFS_FILE, proofs))
    return export, files


async def _data_file(
    export: Export, window: _Window, reader: AuditReader, caller: Principal, directory: Path
) -> ExportFile:
    # A time range is found record by record; a seq range travels in pages (StreamRecordPages).
    if export.by_time:
        records = window.select(reader.records(0, export.to_seq, caller))
        return await write_records(
            directory, _name(export), records, encoder(export.format, COLUMNS)
        )
    spans = segments.split(export)
    if len(spans) > 1:
        return await _segmented(export, reader, caller, directory, spans)
    pages = reader.pages(export.from_seq, export.to_seq, caller)
    checked = extract_pages.checked(pages, export.from_seq, export.to_seq, whole=False)
    out = page_encoder(export.format, COLUMNS)
    return await extract_pages.write_pages(directory, _name(export), checked, out)


async def _segmented(
    export: Export,
    reader: AuditReader,
    caller: Principal,
    directory: Path,
    spans: list[tuple[int, int]],
) -> ExportFile:
    name = _name(export)
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(
                    segments.write_segment(
                        directory, name, index, span, reader, caller, _encoder(export, index)
                    )
                )
                for index, span in enumerate(spans)
            ]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None  # the first cause; the others were cancelled
    parts = [task.result() for task in tasks]
    return await asyncio.to_thread(segments.join, directory, name, parts)


def _name(export: Export) -> str:
    return f"records.{export.format}"


def _encoder(export: Export, index: int) -> PageEncoder:
    # Only the first segment carries the CSV header.
    return page_encoder(export.format, COLUMNS, header=index == 0)


class _Window:
    """Checks the stream is gapless and keeps the records inside the export's window."""

    def __init__(self, export: Export) -> None:
        self._export = export
        self.first, self.last = -1, -1

    async def select(
        self, records: AsyncGenerator[Mapping[str, Any], None]
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        """For a time range only: the records come from seq 0 on."""
        export, expected = self._export, 0
        async with contextlib.aclosing(records):
            async for record in records:
                seq = int(record.get("seq", 0))
                requests.check_next_seq(seq, expected, export.to_seq)
                expected += 1
                at = _recorded_at(record)
                if export.until is not None and at >= export.until:
                    return
                if export.since is not None and at < export.since:
                    continue
                self.first = seq if self.first < 0 else self.first
                self.last = seq
                yield record

    def resolved(self, export: Export) -> Export:
        if not export.by_time:
            return export
        if self.first < 0:
            return replace(export, from_seq=0, to_seq=TO_END)
        return replace(export, from_seq=self.first, to_seq=self.last)


async def _proofs(export: Export, window: _Window, reader: AuditReader, caller: Principal) -> bytes:
    seqs = (
        sorted({window.first, window.last} - {-1})
        if export.by_time
        else sorted({export.from_seq, export.to_seq} if export.to_seq >= export.from_seq else set())
    )
    proofs = [await reader.inclusion_proof(seq, export.checkpoint_size, caller) for seq in seqs]
    body = {
        "tree_size": export.checkpoint_size,
        "root_hash": export.checkpoint_root,
        "proofs": proofs,
    }
    return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _recorded_at(record: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(record.get("recorded_at", "")).replace("Z", "+00:00"))
