"""Audited reads of the records: a page (ListRecords), a stream of records (StreamRecords) and a
stream of row pages (StreamRecordPages). Each read is itself enqueued as an audit event; the
reads enqueued before it are settled first, so a reader sees the log's record of earlier reads
(the wait is one commit at most, only when some are pending)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from runtime.auth import Principal
from runtime.errors import InvalidArgument
from services.audit.log.domain.filters import Filter
from services.audit.log.domain.records import Record
from services.audit.log.repository import head, records
from services.audit.log.repository.records import LeanRow
from services.audit.log.service.log import AuditLog, note_read

PAGE = 500
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Page:
    records: list[Record]
    last_seq: int
    log_size: int


async def list_records(
    log: AuditLog,
    *,
    caller: Principal,
    after_seq: int,
    limit: int,
    target: str = "",
    where: Filter | None = None,
) -> Page:
    if after_seq < -1:
        raise InvalidArgument("after_seq must be -1 (from the start) or a seq")
    if limit < 0:
        raise InvalidArgument("limit must not be negative")
    await log.sequencer.settled()
    async with log.db.transaction() as session:
        size = (await head.read_head(session)).size
        found = await records.page(
            session,
            after_seq=after_seq,
            limit=min(limit or DEFAULT_LIMIT, PAGE),
            target=target,
            where=where,
        )
    query = {"after_seq": after_seq, "target": target, **(where.as_payload() if where else {})}
    note_read(log, caller, "audit.records.read", "log/audit", {**query, "count": len(found)})
    return Page(found, found[-1].seq if found else -1, size)


async def stream(
    log: AuditLog, *, caller: Principal, from_seq: int, to_seq: int
) -> AsyncIterator[Record]:
    """Records with from_seq <= seq <= to_seq (to_seq -1: the end of the log when called), read
    in pages, each in its own short transaction so a slow reader holds nothing open."""
    to_seq = await start_stream(log, caller=caller, from_seq=from_seq, to_seq=to_seq)
    after = from_seq - 1
    while after < to_seq:
        async with log.db.transaction() as session:
            found = await records.page(session, after_seq=after, limit=PAGE, upto=to_seq)
        if not found:
            return
        for record in found:
            yield record
        after = found[-1].seq


async def start_stream(log: AuditLog, *, caller: Principal, from_seq: int, to_seq: int) -> int:
    """Checks a stream's range and audits the read; returns its last seq (to_seq, or for -1 the
    log's last seq now)."""
    if from_seq < 0 or to_seq < -1 or (to_seq != -1 and to_seq < from_seq):
        raise InvalidArgument("from_seq must be >= 0 and to_seq -1 or >= from_seq")
    await log.sequencer.settled()
    if to_seq == -1:
        async with log.db.transaction() as session:
            to_seq = (await head.read_head(session)).size - 1
    span = {"from_seq": from_seq, "to_seq": to_seq}
    note_read(log, caller, "audit.records.streamed", "log/audit", span)
    return to_seq


async def row_pages(
    log: AuditLog, *, caller: Principal, from_seq: int, to_seq: int, size: int
) -> AsyncGenerator[list[LeanRow], None]:
    """The records `stream` would give (same range rules, same audit event), as non-empty pages
    of up to `size` plain rows (repository.records.lean_page), for long streams such as exports.
    Each page is its own short statement on an autocommit connection, so a slow reader holds no
    snapshot open; the next page is read while the caller handles the current one, so memory
    stays bounded by two pages."""
    last = await start_stream(log, caller=caller, from_seq=from_seq, to_seq=to_seq)
    ahead = asyncio.ensure_future(_rows(log, from_seq - 1, last, size))
    try:
        while rows := await ahead:
            ahead = asyncio.ensure_future(_rows(log, rows[-1][0], last, size))
            yield rows
    finally:
        ahead.cancel()  # the caller stopped early: no read left running


async def _rows(log: AuditLog, after: int, last: int, size: int) -> list[LeanRow]:
    if after >= last:
        return []
    async with log.db.read() as connection:
        return await records.lean_page(connection, after, last, size)
