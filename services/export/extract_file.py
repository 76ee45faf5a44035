"""Writing an extract: JSON Lines into `<name>.part`, hashed and counted while streaming (memory
stays bounded by one record), then fsynced and renamed to `<name>`, so a file under its final
name is always complete. Readers never see a half-written extract."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncGenerator, Callable, Mapping
from pathlib import Path
from typing import Any

from runtime.canonical import canonical_json
from services.export.domain import Digest

DIR_MODE, FILE_MODE = 0o750, 0o640


class PartialFile:
    def __init__(self, directory: Path, name: str) -> None:
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        self._directory, self.final = directory, directory / name
        self.part = directory / f"{name}.part"
        fd = os.open(self.part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        self._file = os.fdopen(fd, "wb")
        self._hash, self._size, self._count = hashlib.sha256(), 0, 0

    def write_record(self, record: Mapping[str, Any]) -> None:
        self.write((canonical_json(record) + "\n").encode("utf-8"))
        self._count += 1

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self._size += len(data)

    def publish(self) -> Digest:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.part, self.final)
        _fsync_dir(self._directory)  # makes the rename itself durable
        return Digest(self._hash.hexdigest(), self._size, self._count)

    def discard(self) -> None:
        self._file.close()
        remove(self._directory, self.final.name)


async def write_extract(
    directory: Path,
    name: str,
    records: AsyncGenerator[Mapping[str, Any], None],
    check: Callable[[Mapping[str, Any]], None],
) -> Digest:
    """Writes every record (after `check` accepts it) and publishes the file; on any failure,
    including cancellation, nothing is left behind."""
    out = await asyncio.to_thread(PartialFile, directory, name)
    try:
        # Closing the generator at once ends the audit stream when we stop reading early.
        async with contextlib.aclosing(records):
            async for record in records:
                check(record)
                out.write_record(record)
        return await asyncio.to_thread(out.publish)
    except BaseException:
        out.discard()
        raise


def write_whole(directory: Path, name: str, data: bytes) -> None:
    """Writes `data` byte for byte under the same discipline as an extract (blocking)."""
    out = PartialFile(directory, name)
    try:
        out.write(data)
        out.publish()
    except BaseException:
        out.discard()
        raise


def remove(directory: Path, name: str) -> None:
    """Removes an extract and its partial file, whichever exist."""
    for path in (directory / name, directory / f"{name}.part"):
        path.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
