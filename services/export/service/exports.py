"""Creating an export: request, generate, seal, and hand over for delivery.

A failure on our or a peer's side returns the export FAILED with a reason (its files
removed); a peer's refusal of the caller raises, after the export has been marked FAILED too.
Invalid requests, an audit range past the checkpoint, an unknown action or compliance run and
unavailable kinds raise before anything is recorded. A repeated client_key returns the
requester's first export. The requester is the caller, or whom a service names (requester_of);
peers are always read, and events written, as the caller."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument, PermissionDenied, Unauthenticated
from services.export.clients.store import ExportStore, or_directory
from services.export.domain import requests
from services.export.domain.exports import Checkpoint, Export, ExportState
from services.export.domain.requests import ExportRequest
from services.export.domain.signing import Signer
from services.export.repository import exports as repository
from services.export.repository import outbox
from services.export.repository.exports import ClientKeyTaken
from services.export.service import queries
from services.export.service.audit_extract import AuditReader
from services.export.service.evidence import EvidenceSource
from services.export.service.failure import discard_files, record_failure
from services.export.service.files import make_dir
from services.export.service.generation import ComplianceReader, ReportReader, generate, precheck
from services.export.service.liveness import HEARTBEAT_S, heartbeat
from services.export.service.sealing import Superseded, seal

log = logging.getLogger(__name__)
# Errors a peer reports about the caller's own request: the export still ends FAILED, and the
# caller is told why with the matching status instead of a failed export.
CALLER_FAULTS = (InvalidArgument, PermissionDenied, Unauthenticated)
Deliver = Callable[[Export, Principal], Awaitable[Export]]


@dataclass(frozen=True)
class Exporter:
    """What creating an export needs. `deliver` (service/delivery/send.py, wired by __main__)
    takes a SIGNED export with a destination and returns it in its state after the attempt.
    Without `compliance` or `evidence`, those kinds are refused FAILED_PRECONDITION. While an
    export is generated and sealed, its heartbeat is recorded every `heartbeat_s` seconds
    (service/liveness.py). Exports are generated in `export_dir` and kept in `store` (none:
    in `export_dir` itself)."""

    db: Database
    audit: AuditReader
    reports: ReportReader
    signer: Signer
    export_dir: Path
    destinations: Collection[str] = ()
    deliver: Deliver | None = None
    compliance: ComplianceReader | None = None
    evidence: EvidenceSource | None = None
    heartbeat_s: float = HEARTBEAT_S
    store: ExportStore | None = None

    @property
    def kept_in(self) -> ExportStore:
        return or_directory(self.store, self.export_dir)


async def create_export(exporter: Exporter, request: ExportRequest, caller: Principal) -> Export:
    requester = requester_of(request, caller)
    if request.client_key and (first := await _first(exporter.db, requester, request.client_key)):
        return first
    export = requests.new_export(request, requester)
    if export.destination and export.destination not in exporter.destinations:
        raise InvalidArgument(f"no destination named {export.destination!r}")
    await precheck(exporter, export, caller)
    checkpoint: Checkpoint | None = None
    if export.kind == requests.AUDIT_EXTRACT:
        try:
            checkpoint = await exporter.audit.latest_checkpoint(caller)
        except Exception as exc:
            return await _failure(exporter, caller, await _record(exporter, caller, export), exc)
        export = export.cut_at(checkpoint)
    export = await _record(exporter, caller, export)
    if export.state is not ExportState.REQUESTED:
        return export  # a concurrent request with the same client_key won
    return await _run(exporter, caller, export, checkpoint)


async def _run(
    exporter: Exporter, caller: Principal, export: Export, checkpoint: Checkpoint | None
) -> Export:
    try:
        await asyncio.to_thread(make_dir, exporter.export_dir)
        export = export.generating()
        async with exporter.db.transaction() as session:
            await repository.save(session, export)
        async with heartbeat(exporter.db, export.id, exporter.heartbeat_s):
            export = await _generate_and_seal(exporter, caller, export, checkpoint)
    except asyncio.CancelledError:
        await asyncio.shield(_fail(exporter, caller, export, "cancelled by the caller"))
        raise
    except Superseded:  # already failed and audited by the sweeper: once is the record
        await discard_files(exporter.export_dir, exporter.kept_in, export)
        return await queries.get_export(exporter.db, export.id)
    except Exception as exc:
        return await _failure(exporter, caller, export, exc)
    if export.destination and exporter.deliver is not None:
        return await exporter.deliver(export, caller)
    return export


async def _generate_and_seal(
    exporter: Exporter, caller: Principal, export: Export, checkpoint: Checkpoint | None
) -> Export:
    staging = exporter.export_dir / export.staging
    export, files = await generate(exporter, export, checkpoint, caller, staging)
    export = export.generated(files[0], tuple(files))
    return await seal(exporter.db, export, exporter.signer, staging, exporter.kept_in, caller)


def requester_of(request: ExportRequest, caller: Principal) -> str:
    """The agent's triggers export for the rule's author; anyone else for themselves."""
    return caller.on_behalf_of(request.requested_by, "request an export for")


async def _first(db: Database, requester: str, client_key: str) -> Export | None:
    async with db.transaction() as session:
        return await repository.by_client_key(session, requester, client_key)


async def _record(exporter: Exporter, caller: Principal, export: Export) -> Export:
    """Records the request; the first export when another request took its client_key."""
    try:
        async with exporter.db.transaction() as session:
            await repository.add(session, export)
            payload = {**outbox.request_payload(export), "requested_by": export.requested_by}
            await outbox.emit(session, caller, "export.requested", export, payload)
    except ClientKeyTaken:
        key = export.client_key
        first = await _first(exporter.db, export.requested_by, key) if key else None
        if first is None:
            raise
        return first
    return export


async def _failure(exporter: Exporter, caller: Principal, export: Export, exc: Exception) -> Export:
    """Records the failure; a refusal of the caller is raised again for the caller to see."""
    if isinstance(exc, CALLER_FAULTS):
        outcome = "failure" if isinstance(exc, InvalidArgument) else "denied"
        await _fail(exporter, caller, export, str(exc), outcome)
        raise exc
    log.warning("export %s failed", export.id, exc_info=exc)
    return await _fail(exporter, caller, export, _reason(exc))


async def _fail(
    exporter: Exporter, caller: Principal, export: Export, reason: str, outcome: str = "failure"
) -> Export:
    await discard_files(exporter.export_dir, exporter.kept_in, export)
    async with exporter.db.transaction() as session:
        stored = await repository.locked(session, export.id)
        if stored is not None and stored.state is ExportState.FAILED:
            return stored  # the sweeper failed it first (its files gone): one failure on record
        return await record_failure(session, caller, export, reason, outcome)


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"could not write the export: {exc}"
    return str(exc) or type(exc).__name__
