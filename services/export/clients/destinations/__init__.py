"""Where exports go: a directory, an SFTP server or an HTTP(S) endpoint.

Every destination offers the same two operations:

- `put_directory(local_dir, export_id) -> bytes sent` copies every file of an export's local
  directory to the destination, under `<export_id>/`. Directory and SFTP destinations upload into
  a hidden staging name (`.<export_id>.partial-<random>`) and rename it to `<export_id>` only
  when every file arrived, so a partial upload is never seen under the final name; delivering the
  same export again replaces the old copy the same way. HTTP has no rename: data files are sent
  first and `manifest.json` then `manifest.json.sig` last, so a receiver treats an export as
  complete once its signature arrived.
- `location(export_id)` says where it lands, for people (no credentials).
- `fetch_directory(export_id, into)` copies the delivered files back into the existing empty
  directory `into`, for verification by fetch-back.

Both raise `DeliveryError` with a message that is safe to store and log: it never carries a key,
a token or a URL's credentials. Configuration: see `config.parse`."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from services.export.domain.exports import MANIFEST, PUBLIC_KEY, SIGNATURE, SUMS

__all__ = ["MANIFEST", "PUBLIC_KEY", "SIGNATURE", "SUMS", "DeliveryError", "Destination"]


class DeliveryError(Exception):
    """The destination could not take or give back the files; the message is safe to record."""


class Destination(Protocol):
    @property
    def name(self) -> str: ...

    def location(self, export_id: str) -> str:
        """Where `export_id` lands, for people to read (never with credentials)."""
        ...

    async def put_directory(self, local_dir: Path, export_id: str) -> int: ...

    async def fetch_directory(self, export_id: str, into: Path) -> None: ...


def local_files(local_dir: Path) -> list[str]:
    """The export's files as sorted relative POSIX paths, manifest and signature last (the
    order every destination sends them in)."""
    names = sorted(p.relative_to(local_dir).as_posix() for p in local_dir.rglob("*") if p.is_file())
    if not names:
        raise DeliveryError(f"nothing to deliver: {local_dir.name} holds no files")
    last = [name for name in (MANIFEST, SIGNATURE) if name in names]
    return [name for name in names if name not in last] + last


def checked_id(export_id: str) -> str:
    """An export id is used as a remote directory name: refuse anything path-like."""
    if not export_id or export_id.startswith(".") or "/" in export_id or "\\" in export_id:
        raise DeliveryError(f"export id {export_id!r} cannot name a remote directory")
    return export_id


def staging_name(export_id: str, token: str) -> str:
    return f".{export_id}.partial-{token}"
