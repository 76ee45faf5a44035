"""Writing an export's files: records into `<name>.part`, encoded, hashed and counted while
streaming (memory stays bounded by one record), then fsynced and renamed to `<name>`, so a file
under its final name is always complete. Readers never see a half-written file."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncGenerator, Mapping
from pathlib import Path
from typing import Any

from services.export.clients.store.directory import fsync_dir
from services.export.domain.exports import ExportFile
from services.export.domain.formats import Encoder

DIR_MODE, FILE_MODE = 0o750, 0o640


class PartialFile:
    def __init__(self, directory: Path, name: str) -> None:
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        self._directory, self.final = directory, directory / name
        self.part = directory / f"{name}.part"
        fd = os.open(self.part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        self._file = os.fdopen(fd, "wb")
        self._hash, self._size, self._count = hashlib.sha256(), 0, 0

    def write_record(self, data: bytes) -> None:
        self.write(data)
        self._count += 1

    def count_records(self, count: int) -> None:
        self._count += count

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self._size += len(data)

    def publish(self) -> ExportFile:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.part, self.final)
        fsync_dir(self._directory)  # makes the rename itself durable
        return ExportFile(self.final.name, self._size, self._hash.hexdigest(), self._count)

    def discard(self) -> None:
        self._file.close()
        for path in (self.final, self.part):
            path.unlink(missing_ok=True)


async def write_records(
    directory: Path,
    name: str,
    records: AsyncGenerator[Mapping[str, Any], None],
    encoder: Encoder,
) -> ExportFile:
    """Writes every record and publishes the file; on any failure, including cancellation,
    nothing is left behind."""
    out = await asyncio.to_thread(PartialFile, directory, name)
    try:
        out.write(encoder.header())
        # Closing the generator at once ends the peer's stream when we stop reading early.
        async with contextlib.aclosing(records):
            async for record in records:
                out.write_record(encoder.encode(record))
        return await asyncio.to_thread(out.publish)
    except BaseException:
        out.discard()
        raise


def write_whole(directory: Path, name: str, data: bytes) -> ExportFile:
    """Writes `data` byte for byte under the same discipline as records (blocking)."""
    out = PartialFile(directory, name)
    try:
        out.write(data)
        return out.publish()
    except BaseException:
        out.discard()
        raise


def make_dir(directory: Path) -> None:
    directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
