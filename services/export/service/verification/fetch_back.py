"""Verification by fetch-back: the delivered copy is fetched from the destination it was last
delivered to (the copy the export store keeps when it never had one) into a temporary directory
and checked with verify_directory against the export's signing key and the previous manifest,
and its manifest must be byte for byte the one this service signed for that export. A pass moves
the export to VERIFIED; a failure of a delivered copy schedules a redelivery of the same bytes
(verified again afterwards), and after too many failures the export is FAILED. Every
verification is stored in export.verifications and audited. A store that cannot be read is
UNAVAILABLE, with nothing recorded: it says nothing about the export."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import Database
from runtime.errors import Unavailable
from services.export.clients.destinations import MANIFEST, DeliveryError, Destination
from services.export.clients.store import StoreError
from services.export.domain.delivery import Verification, first
from services.export.domain.exports import Export, ExportState
from services.export.domain.requests import parse_id
from services.export.repository import deliveries as jobs
from services.export.repository import delivery_attempts, manifests, outbox
from services.export.repository.outbox import Actor
from services.export.repository.verifications import add_verification
from services.export.service.delivery import state
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.kept import kept_copy
from services.export.service.verification.directory import verify_directory


@dataclass(frozen=True)
class _Trusted:
    """What the fetched copy is checked against: the signing key pinned in our files (never a
    row our role could write), the manifests from our own database."""

    key_id: str
    public_key_pem: bytes | None
    manifest: bytes | None
    previous_manifest: bytes | None


async def verify_delivered(
    db: Database,
    config: DeliveryConfig,
    export_id: str,
    *,
    actor: Actor,
    now: datetime,
    destination_name: str | None = None,
) -> Verification:
    async with db.transaction() as session:
        export = await state.locked(session, parse_id(export_id))
        state.require_signed(export)
        last = await delivery_attempts.last_delivered_to(session, export.id)
        name = destination_name or last or export.destination
        trusted = await _trusted(session, config, export)
    source = config.destination_named(name) if name else None
    problems, fetched_from = await _check(db, config, export, source, trusted)
    verdict = Verification(export.id, not problems, now, tuple(problems), fetched_from)
    async with db.transaction() as session:
        export = await state.locked(session, export.id)
        await add_verification(session, verdict, actor)
        if verdict.ok:
            await _passed(session, export, name, verdict, actor)
        else:
            await _not_passed(session, config, export, name, verdict, actor)
    return verdict


async def _trusted(session: AsyncSession, config: DeliveryConfig, export: Export) -> _Trusted:
    prev = export.prev_manifest_sha256
    return _Trusted(
        export.key_id,
        config.keys.pem_of(export.key_id),
        await manifests.body_of_export(session, export.id),
        await manifests.manifest_body(session, prev) if prev else None,
    )


async def _check(
    db: Database,
    config: DeliveryConfig,
    export: Export,
    source: Destination | None,
    trusted: _Trusted,
) -> tuple[list[str], str]:
    if source is None:
        kept_in = config.kept_in
        try:
            async with kept_copy(db, kept_in, export.id) as local:
                problems = await asyncio.to_thread(_problems, local, trusted)
        except StoreError as exc:
            raise Unavailable(str(exc)) from None
        return problems, kept_in.location(export.id)
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="tradeops-verify-"))
    try:
        fetch = source.fetch_directory(export.id, folder)
        await asyncio.wait_for(fetch, config.attempt_timeout_s)
        return await asyncio.to_thread(_problems, folder, trusted), source.location(export.id)
    except (DeliveryError, TimeoutError) as exc:
        reason = str(exc) or f"timed out after {config.attempt_timeout_s:g} s"
        return [f"fetching it back from {source.name} failed: {reason}"], source.name
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)


def _problems(folder: Path, trusted: _Trusted) -> list[str]:
    if trusted.public_key_pem is None:
        return [
            f"the export's signing key {trusted.key_id} is not pinned (neither the current key "
            "nor in TRADEOPS_EXPORT_VERIFY_KEYS_FILE)"
        ]
    if trusted.manifest is None:
        return ["this service holds no signed manifest for the export"]
    problems = verify_directory(folder, trusted.public_key_pem, trusted.previous_manifest)
    fetched = folder / MANIFEST
    if fetched.is_file() and fetched.read_bytes() != trusted.manifest:
        problems.append(f"{MANIFEST}: not the manifest this service signed for the export")
    return problems


async def _passed(
    session: AsyncSession, export: Export, name: str, verdict: Verification, actor: Actor
) -> None:
    if name and await jobs.get(session, export.id, name) is not None:
        # The copy there is intact: nothing is left to repair.
        done = {"verify": False, "failures": 0, "next_attempt_at": None, "last_error": ""}
        await jobs.set_job(session, export.id, name, **done, updated_at=verdict.checked_at)
    if export.state in (ExportState.SIGNED, ExportState.DELIVERED, ExportState.VERIFIED):
        await state.save(session, export.verified())
    payload = {"fetched_from": verdict.fetched_from}
    await outbox.record(session, actor, "export.verified", export.id, payload)


async def _not_passed(
    session: AsyncSession,
    config: DeliveryConfig,
    export: Export,
    name: str,
    verdict: Verification,
    actor: Actor,
) -> None:
    payload = {"fetched_from": verdict.fetched_from, "problems": first(verdict.problems)}
    outcome = "failure"
    await outbox.record(session, actor, "export.verification_failed", export.id, payload, outcome)
    reason = f"verification failed: {verdict.problems[0]}"
    if not name:  # the local copy itself is damaged: nothing can repair it
        await state.save(session, export.failed(reason))
        return
    now = verdict.checked_at
    job = await jobs.lease(session, export.id, name, now, now)
    failures = job.failures + 1
    retry_at = None if failures >= config.retry.max_failures else now + config.retry.delay(failures)
    values = {"failures": failures, "verify": True, "next_attempt_at": retry_at}
    await jobs.set_job(session, export.id, name, **values, last_error=reason, updated_at=now)
    if retry_at is None:
        await state.save(session, export.failed(f"{reason} ({failures} times)"))
    elif export.state is ExportState.VERIFIED:
        await state.save(session, replace(export, state=ExportState.DELIVERED, updated_at=now))
