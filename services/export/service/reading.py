"""Reading one file of a finished export (ReadExportFile).

The name is looked up among what the export recorded (its manifest's files, the manifest and
its signature), never used as a path. The file comes from the export's store (its directory, or
a download of exactly the S3 version recorded at sealing) and is checked whole before a byte
leaves: size and SHA-256 against the manifest, the manifest against the export's
manifest_sha256, the signature by verifying it over the signed manifest with the export's
pinned key. A file that fails is DataLoss, audited with outcome "failure"; one that passes is
audited ("export.file_read") before its first byte. `chunks` hashes the bytes again as they go
and holds the last chunk back until they match, so a file changed between the check and the
read is cut short, never handed over whole."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature

from runtime.db import Database
from runtime.errors import Conflict, DataLoss, NotFound, Unavailable
from runtime.keys import load_public_pem
from services.export.clients.store import StoreError
from services.export.domain.exports import (
    MANIFEST,
    SEALED_OR_VERIFIED,
    SIGNATURE,
    Export,
    ExportFile,
)
from services.export.domain.requests import parse_id
from services.export.repository import exports, manifests, object_versions, outbox
from services.export.repository.outbox import Actor
from services.export.service.delivery.config import DeliveryConfig

CHUNK = 64 * 1024
READ = "export.file_read"


@dataclass(frozen=True)
class Expected:
    """What the named file must be: `sha256` and `size_bytes`, or for the signature (no hash of
    it is recorded) a valid signature over `signed` by `key_pem`."""

    name: str
    sha256: str = ""
    size_bytes: int = -1
    signed: bytes = b""
    key_pem: bytes = b""
    versions: Mapping[str, str] = field(default_factory=dict)  # the store's (S3) version


@dataclass(frozen=True)
class CheckedFile:
    export_id: str
    name: str
    path: Path
    size_bytes: int
    sha256: str


@asynccontextmanager
async def checked_file(
    db: Database, config: DeliveryConfig, export_id: str, name: str, actor: Actor
) -> AsyncIterator[CheckedFile]:
    """The file, checked whole and its read audited; the local copy lasts until the block ends.
    NotFound, Conflict (not finished; signature key not pinned), DataLoss, Unavailable."""
    export, expected = await _expected(db, config, export_id, name)
    try:
        async with config.kept_in.copy(export.id, expected.versions) as folder:
            checked = await asyncio.to_thread(check, export.id, folder / name, expected)
            if isinstance(checked, str):
                raise await lost(db, actor, export.id, name, checked)
            await _audit(db, actor, export.id, _payload(checked))
            yield checked
    except StoreError as exc:
        raise Unavailable(str(exc)) from None


async def chunks(db: Database, actor: Actor, file: CheckedFile) -> AsyncIterator[bytes]:
    """The file's bytes, CHUNK at a time (one empty chunk for an empty file); an audited
    DataLoss instead of the last chunk when they no longer hash to what was checked."""
    digest, held = hashlib.sha256(), b""
    with file.path.open("rb") as source:
        while data := await asyncio.to_thread(source.read, CHUNK):
            digest.update(data)
            if held:
                yield held
            held = data
    if digest.hexdigest() != file.sha256:
        problem = f"{file.name}: changed while it was read; its SHA-256 no longer matches"
        raise await lost(db, actor, file.export_id, file.name, problem)
    yield held


async def lost(db: Database, actor: Actor, export_id: str, name: str, problem: str) -> DataLoss:
    """Audits a failed read; returns the error to raise."""
    await _audit(db, actor, export_id, {"file": name, "problem": problem}, "failure")
    return DataLoss(problem)


def check(export_id: str, path: Path, expected: Expected) -> CheckedFile | str:
    """Blocking: the file as checked, or the problem with it."""
    name = expected.name
    if not path.is_file():
        return f"{name}: missing from the export's store"
    if expected.key_pem:
        return _check_signature(export_id, path, expected)
    size = path.stat().st_size
    if size != expected.size_bytes:
        return f"{name}: {size} bytes, the manifest says {expected.size_bytes}"
    if _sha256(path) != expected.sha256:
        return f"{name}: SHA-256 does not match the manifest"
    return CheckedFile(export_id, name, path, size, expected.sha256)


def _check_signature(export_id: str, path: Path, expected: Expected) -> CheckedFile | str:
    signature = path.read_bytes()
    try:
        load_public_pem(expected.key_pem).verify(signature, expected.signed)
    except (InvalidSignature, ValueError):
        return f"{SIGNATURE}: does not verify over the manifest this service signed"
    digest = hashlib.sha256(signature).hexdigest()
    return CheckedFile(export_id, expected.name, path, len(signature), digest)


async def _expected(
    db: Database, config: DeliveryConfig, export_id: str, name: str
) -> tuple[Export, Expected]:
    async with db.transaction() as session:
        export = await exports.get(session, parse_id(export_id))
        if export is None:
            raise NotFound(f"no export {export_id}")
        finished(export)
        versions = await object_versions.versions_of(session, export.id)
        body = await manifests.body_of_export(session, export.id) or b""
    kept = {name: versions[name]} if name in versions else {}
    if name == SIGNATURE:
        return export, Expected(name, signed=body, key_pem=_pinned(config, export), versions=kept)
    if name == MANIFEST:
        return export, Expected(name, export.manifest_sha256, len(body), versions=kept)
    listed = _listed(export, name)
    return export, Expected(name, listed.sha256, listed.size_bytes, versions=kept)


def finished(export: Export) -> None:
    if export.state not in SEALED_OR_VERIFIED or not export.manifest_sha256:
        raise Conflict(
            f"export {export.id} is {export.state.value}: only a finished export's files can "
            "be read"
        )


def _listed(export: Export, name: str) -> ExportFile:
    """The manifest's entry for `name`; NotFound for a name the export does not have."""
    for file in export.files:
        if file.name == name:
            return file
    readable = ", ".join([*(f.name for f in export.files), MANIFEST, SIGNATURE])
    raise NotFound(f"export {export.id} has no file {name!r} (it has {readable})")


def _pinned(config: DeliveryConfig, export: Export) -> bytes:
    pem = config.keys.pem_of(export.key_id)
    if pem is None:
        raise Conflict(
            f"export {export.id} was signed by key {export.key_id}, which is no longer pinned "
            "(neither the current key nor in TRADEOPS_EXPORT_VERIFY_KEYS_FILE): its signature "
            "cannot be checked"
        )
    return pem


def _payload(file: CheckedFile) -> dict[str, object]:
    return {"file": file.name, "sha256": file.sha256, "size_bytes": file.size_bytes}


async def _audit(
    db: Database, actor: Actor, export_id: str, payload: dict[str, object], outcome: str = "success"
) -> None:
    async with db.transaction() as session:
        await outbox.record(session, actor, READ, export_id, dict(payload), outcome)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while data := source.read(1 << 20):
            digest.update(data)
    return digest.hexdigest()
