"""A directory destination: a local or mounted folder (an NFS share, a synced drive)."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from services.export.clients.destinations import (
    DeliveryError,
    checked_id,
    local_files,
    staging_name,
)


@dataclass(frozen=True)
class DirectoryDestination:
    name: str
    path: Path

    def location(self, export_id: str) -> str:
        return str(self.path / export_id)

    async def put_directory(self, local_dir: Path, export_id: str) -> int:
        return await asyncio.to_thread(self._put, local_dir, checked_id(export_id))

    async def fetch_directory(self, export_id: str, into: Path) -> None:
        await asyncio.to_thread(self._fetch, checked_id(export_id), into)

    def _put(self, local_dir: Path, export_id: str) -> int:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            staging = self.path / staging_name(export_id, secrets.token_hex(4))
            try:
                names = local_files(local_dir)
                sent = sum(_copy(local_dir / name, staging / name) for name in names)
                _fsync(staging)
                _swap_in(staging, self.path / export_id)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        except OSError as exc:
            raise DeliveryError(f"writing to {self.name} failed: {exc.strerror or exc}") from None
        return sent

    def _fetch(self, export_id: str, into: Path) -> None:
        source = self.path / export_id
        if not source.is_dir():
            raise DeliveryError(f"{self.name} holds no export {export_id}")
        try:
            shutil.copytree(source, into, dirs_exist_ok=True)
        except OSError as exc:
            raise DeliveryError(f"reading from {self.name} failed: {exc}") from None


def _copy(source: Path, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("xb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
        dst.flush()
        os.fsync(dst.fileno())
        return dst.tell()


def _swap_in(staging: Path, final: Path) -> None:
    """Renames `staging` to `final`; an older copy under `final` is moved aside first (a rename
    cannot replace a non-empty directory) and removed once the new one is in place."""
    aside = final.with_name(f".{final.name}.replaced-{secrets.token_hex(4)}")
    if final.exists():
        final.rename(aside)
    staging.rename(final)
    _fsync(final.parent)
    shutil.rmtree(aside, ignore_errors=True)


def _fsync(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
