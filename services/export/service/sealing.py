"""Sealing an export: key.pub.pem, manifest.json (linked to the previous manifest), its detached
raw Ed25519 signature and SHA256SUMS, written into the staging directory, which the export
store then keeps as the export's (clients/store/: renamed to <export_dir>/<id>, or uploaded
under Object Lock). The chain is locked while this runs, so manifests are linked in signing
order even across replicas; the manifest row, the object versions the store made (S3) and the
SIGNED state commit together, after the store holds every file, so an export is SIGNED only
once any replica can read it."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from runtime.auth import Principal
from runtime.db import Database
from services.export.clients.store import ExportStore
from services.export.domain.exports import (
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    SUMS,
    UNFINISHED,
    Export,
    ExportFile,
)
from services.export.domain.manifest import manifest_bytes, sums_text
from services.export.domain.signing import Signer
from services.export.repository import exports as repository
from services.export.repository import manifests, object_versions, outbox
from services.export.service.files import write_whole


async def seal(
    db: Database,
    export: Export,
    signer: Signer,
    staging: Path,
    store: ExportStore,
    caller: Principal,
) -> Export:
    async with db.transaction() as session:
        stored = await repository.locked(session, export.id)
        if stored is None or stored.state not in UNFINISHED:
            raise Superseded(export.id)
        position, prev = await manifests.chain_head(session)
        body = manifest_bytes(export, prev, signer.key_id)
        signed = export.signed(hashlib.sha256(body).hexdigest(), prev, signer.key_id)
        await asyncio.to_thread(write_sealed, staging, export.files, body, signer)
        versions = await store.publish(staging, export.id)
        await manifests.add_manifest(session, position, signed, body)
        await object_versions.add_versions(session, export.id, versions)
        await repository.save(session, signed)
        await outbox.emit(session, caller, "export.signed", signed, outbox.signed_payload(signed))
    return signed


class Superseded(Exception):
    """The export was failed while it was generated: the stale-export sweeper took its
    generation for dead (silent for longer than its threshold). Nothing is signed then."""


def write_sealed(staging: Path, files: tuple[ExportFile, ...], body: bytes, signer: Signer) -> None:
    """Blocking: writes the sealing files beside the export's own."""
    sealing = [
        write_whole(staging, PUBLIC_KEY, signer.public_pem),
        write_whole(staging, MANIFEST, body),
        write_whole(staging, SIGNATURE, signer.sign(body)),
    ]
    write_whole(staging, SUMS, sums_text([*files, *sealing]))
