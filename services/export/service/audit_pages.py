"""Writing an audit extract page by page: each page of consecutive records from the audit
service is checked (gapless, inside the range), encoded into one block of bytes and written,
hashed and counted with one call each, so the per-record cost is the encoding alone.

A page comes from the audit client (clients/audit.py), which alone reads the contract's
messages: it gives the page's seqs, its JSON Lines (built straight from the messages) and its
records' JSON mappings, which CSV rows go through as for any report. Memory stays bounded by one
page."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from services.export.domain import requests
from services.export.domain.exports import TO_END, ExportFile, ExtractError
from services.export.domain.formats import Csv
from services.export.service.files import PartialFile


class Page(Protocol):
    """Consecutive audit records as the audit service sent them in one message."""

    @property
    def seqs(self) -> Sequence[int]: ...

    def jsonl(self) -> bytes:
        """Every record's canonical JSON line."""
        ...

    def mappings(self) -> Iterator[Mapping[str, Any]]:
        """Every record's proto3 JSON mapping, one at a time."""
        ...


Pages = AsyncGenerator[Page, None]


class PageEncoder(Protocol):
    def header(self) -> bytes: ...

    def encode(self, page: Page) -> bytes: ...


class JsonLinesPages:
    def header(self) -> bytes:
        return b""

    def encode(self, page: Page) -> bytes:
        return page.jsonl()


class CsvPages:
    def __init__(self, columns: Sequence[str], *, header: bool = True) -> None:
        self._csv, self._header = Csv(columns), header

    def header(self) -> bytes:
        return self._csv.header() if self._header else b""

    def encode(self, page: Page) -> bytes:
        return b"".join([self._csv.encode(record) for record in page.mappings()])


def page_encoder(format: str, columns: Sequence[str], *, header: bool = True) -> PageEncoder:
    return CsvPages(columns, header=header) if format == "csv" else JsonLinesPages()


async def checked(pages: Pages, first: int, last: int, *, whole: bool) -> Pages:
    """The pages, refusing a gap, a stray seq, a seq past `last` (unless TO_END) or, when
    `whole`, a stream that ends before `last`."""
    expected = first
    async with contextlib.aclosing(pages):
        async for page in pages:
            seqs = list(page.seqs)
            if seqs != list(range(expected, expected + len(seqs))):
                _refuse_first_out_of_place(seqs, expected)
            expected += len(seqs)
            if last != TO_END and expected > last + 1:
                raise ExtractError(
                    f"audit service sent seq {last + 1}, past the requested to_seq {last}"
                )
            yield page
    if whole and expected != last + 1:
        raise ExtractError(f"audit service ended the stream at seq {expected - 1}, not {last}")


def _refuse_first_out_of_place(seqs: list[int], expected: int) -> None:
    for offset, seq in enumerate(seqs):
        requests.check_next_seq(seq, expected + offset, TO_END)


async def write_pages(directory: Path, name: str, pages: Pages, encoder: PageEncoder) -> ExportFile:
    """Writes every page and publishes the file; on any failure, including cancellation,
    nothing is left behind."""
    out = await asyncio.to_thread(PartialFile, directory, name)
    try:
        out.write(encoder.header())
        async with contextlib.aclosing(pages):
            async for page in pages:
                out.write(encoder.encode(page))
                out.count_records(len(page.seqs))
        return await asyncio.to_thread(out.publish)
    except BaseException:
        out.discard()
        raise
