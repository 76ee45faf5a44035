"""Record encodings: JSON Lines (one canonical JSON object per line) and CSV (RFC 4180 with a
header row; nested values are written as canonical JSON, absent ones as empty cells, and a text
cell a spreadsheet would run as a formula with a leading apostrophe)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from runtime.canonical import canonical_json


class Encoder(Protocol):
    def header(self) -> bytes: ...

    def encode(self, record: Mapping[str, Any]) -> bytes: ...


class JsonLines:
    def header(self) -> bytes:
        return b""

    def encode(self, record: Mapping[str, Any]) -> bytes:
        return (canonical_json(record) + "\n").encode("utf-8")


class Csv:
    def __init__(self, columns: Sequence[str]) -> None:
        self._columns = tuple(columns)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def header(self) -> bytes:
        return self._row(self._columns)

    def encode(self, record: Mapping[str, Any]) -> bytes:
        return self._row([_cell(_lookup(record, name)) for name in self._columns])

    def _row(self, cells: Sequence[str]) -> bytes:
        self._writer.writerow(cells)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")


def encoder(format: str, columns: Sequence[str]) -> Encoder:
    return Csv(columns) if format == "csv" else JsonLines()


def _lookup(record: Mapping[str, Any], column: str) -> Any:
    # A dotted column ("event.actor") reaches into a nested object.
    value: Any = record
    for part in column.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _inert(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return canonical_json(value)


# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV Injection"):
# an actor name or reason a person typed could otherwise run in the auditor's spreadsheet.
# Numbers are written by str() above and never reach here, so -5 stays a number.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
