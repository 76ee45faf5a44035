"""Exports kept in a local directory (TRADEOPS_EXPORT_DIR), each in `<directory>/<export id>/`:
the staging directory beside it is renamed to that name at once, so a directory under an
export's id is always complete. Only replicas sharing the filesystem see each other's exports."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path


class DirectoryStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def location(self, export_id: str) -> str:
        return str(self.directory / export_id)

    async def publish(self, staging: Path, export_id: str) -> dict[str, str]:
        await asyncio.to_thread(publish_dir, staging, self.directory / export_id)
        return {}  # a file has one version here: the directory's

    @asynccontextmanager
    async def copy(self, export_id: str, versions: Mapping[str, str]) -> AsyncIterator[Path]:
        yield self.directory / export_id  # read in place: nothing to copy or clean up

    async def discard(self, export_id: str) -> None:
        await asyncio.to_thread(remove_tree, self.directory / export_id)


def publish_dir(staging: Path, final: Path) -> None:
    """Moves a complete export directory under its final name at once."""
    os.replace(staging, final)
    fsync_dir(final.parent)


def remove_tree(directory: Path) -> None:
    """Removes an export's directory (files only: an export directory has no subdirectories)."""
    if directory.is_dir():
        for path in directory.iterdir():
            path.unlink(missing_ok=True)
        directory.rmdir()


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
