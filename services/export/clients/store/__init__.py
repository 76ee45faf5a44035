"""Where signed exports are kept, behind one interface: a directory (TRADEOPS_EXPORT_DIR, the
default, directory.py) or an S3 bucket with Object Lock (s3.py), which every replica of the
service reads alike. An export is generated into a local staging directory first; `publish`
moves or uploads it under the export's id once it is sealed, and from then on it is read only
through the store:

- `location(export_id)`: where the export is kept, for people and the verification record.
- `publish(staging, export_id)`: keeps the staging directory's files as the export's (the
  staging directory is gone afterwards); returns the version the store gave each file, by name
  (S3; nothing for a directory), to be recorded with the manifest.
- `copy(export_id, versions)`: an async context manager giving a local directory with the
  export's files (the directory itself for directory.py; for s3.py a temporary download of
  exactly the recorded `versions`, never whatever is newest under the key), for delivery and
  verification; without a file that is not kept (or not recorded).
- `discard(export_id)`: removes an export whose manifest was never recorded, as far as the
  store allows (s3.py leaves the locked objects and says so).

Failures to reach the store raise StoreError, naming where and why."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from services.export.clients.store.directory import DirectoryStore


class StoreError(Exception):
    """The store could not be read or written (unreachable, refused, misconfigured)."""


class ExportStore(Protocol):
    def location(self, export_id: str) -> str: ...

    async def publish(self, staging: Path, export_id: str) -> dict[str, str]: ...

    def copy(
        self, export_id: str, versions: Mapping[str, str]
    ) -> AbstractAsyncContextManager[Path]: ...

    async def discard(self, export_id: str) -> None: ...


def or_directory(store: ExportStore | None, export_dir: Path) -> ExportStore:
    """`store`, or when none is given the export directory itself."""
    return DirectoryStore(export_dir) if store is None else store


__all__ = ["DirectoryStore", "ExportStore", "StoreError", "or_directory"]
