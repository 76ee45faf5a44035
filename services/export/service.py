"""Use cases of the export service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from runtime.outbox import person, record_event
from services.export import domain, repository
from services.export.domain import Checkpoint, Export
from services.export.extract_file import remove, write_extract, write_whole
from services.export.tables import outbox

log = logging.getLogger(__name__)
SOURCE = "export"
# Errors the audit service reports about the caller's own request: the export still ends FAILED,
# and the caller is told why with the matching status instead of a failed export.
CALLER_FAULTS = (InvalidArgument, PermissionDenied, Unauthenticated)


class AuditReader(Protocol):
    async def latest_checkpoint(self, caller: Principal) -> Checkpoint | None:
        """The audit log's latest signed checkpoint, read on behalf of `caller`; None while the
        log has none. Raises like records()."""
        ...

    def records(
        self, from_seq: int, to_seq: int, caller: Principal
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        """Yields the audit records with from_seq <= seq <= to_seq (-1: to the end) in seq order,
        each as its proto3 JSON mapping with "seq" an int64 string, read on behalf of `caller`
        (the audit service sees who exported). Raises a DomainError: Unavailable when the audit
        service cannot be reached, the caller-fault errors when it refuses the caller."""
        ...


async def create_export(
    db: Database,
    audit_reader: AuditReader,
    *,
    kind: str,
    from_seq: int,
    to_seq: int,
    caller: Principal,
    export_dir: Path,
) -> Export:
    """Cuts the extract at the latest signed checkpoint, writes it and the checkpoint's note, and
    records its digest. A failure on our or the audit service's side returns the export FAILED
    with a reason; a refusal of the caller raises, after the export has been marked FAILED too.
    Invalid requests, a range past the checkpoint included, raise before anything is written."""
    export = domain.request_export(kind, from_seq, to_seq, caller.subject)
    try:
        checkpoint = await audit_reader.latest_checkpoint(caller)
    except Exception as exc:
        await _record_request(db, caller, export)
        return await _failure(db, caller, export, export_dir, exc)
    export = export.cut_at(checkpoint)
    await _record_request(db, caller, export)
    try:
        if checkpoint is not None:
            note = checkpoint.note.encode("utf-8")  # the note as signed, byte for byte
            await asyncio.to_thread(write_whole, export_dir, export.checkpoint_file, note)
        digest = await write_extract(
            export_dir,
            export.file_name,
            audit_reader.records(export.from_seq, export.to_seq, caller),
            _sequence_check(export),
        )
        domain.check_complete(export, digest.record_count)
        return await _finish(db, caller, export.generated(digest))
    except asyncio.CancelledError:
        await asyncio.shield(_fail(db, caller, export, export_dir, "cancelled by the caller"))
        raise
    except Exception as exc:
        return await _failure(db, caller, export, export_dir, exc)


async def get_export(db: Database, export_id: str) -> Export:
    async with db.transaction() as session:
        export = await repository.get(session, domain.parse_id(export_id))
    if export is None:
        raise NotFound(f"no export {export_id}")
    return export


async def list_exports(db: Database, *, limit: int) -> list[Export]:
    async with db.transaction() as session:
        return await repository.newest(session, domain.page_limit(limit))


async def _record_request(db: Database, caller: Principal, export: Export) -> None:
    async with db.transaction() as session:
        await repository.add(session, export)
        await _event(session, caller, "export.requested", export, _request_payload(export))


async def _finish(db: Database, caller: Principal, export: Export) -> Export:
    async with db.transaction() as session:
        await repository.save(session, export)
        payload = {
            "file_name": export.file_name,
            "sha256": export.sha256,
            "size_bytes": export.size_bytes,
            "record_count": export.record_count,
            "checkpoint_size": export.checkpoint_size,
            "checkpoint_root": export.checkpoint_root,
        }
        await _event(session, caller, "export.generated", export, payload)
    return export


async def _failure(
    db: Database, caller: Principal, export: Export, export_dir: Path, exc: Exception
) -> Export:
    """Records the failure; a refusal of the caller is raised again for the caller to see."""
    if isinstance(exc, CALLER_FAULTS):
        outcome = "failure" if isinstance(exc, InvalidArgument) else "denied"
        await _fail(db, caller, export, export_dir, str(exc), outcome)
        raise exc
    log.warning("export %s failed", export.id, exc_info=exc)
    return await _fail(db, caller, export, export_dir, _reason(exc))


async def _fail(
    db: Database,
    caller: Principal,
    export: Export,
    export_dir: Path,
    reason: str,
    outcome: str = "failure",
) -> Export:
    # Also removes published files: a file whose digest was never recorded must not survive.
    for name in filter(None, (export.file_name, export.checkpoint_file)):
        await asyncio.to_thread(remove, export_dir, name)
    failed = export.failed(reason)
    async with db.transaction() as session:
        await repository.save(session, failed)
        payload = {**_request_payload(failed), "reason": reason}
        await _event(session, caller, "export.failed", failed, payload, outcome)
    return failed


async def _event(
    session: AsyncSession,
    caller: Principal,
    action: str,
    export: Export,
    payload: dict[str, Any],
    outcome: str = "success",
) -> None:
    await record_event(
        session,
        outbox,
        source=SOURCE,
        actor=person(caller),
        action=action,
        target=f"export/{export.id}",
        payload=payload,
        outcome=outcome,
    )


def _request_payload(export: Export) -> dict[str, Any]:
    return {"kind": export.kind, "from_seq": export.from_seq, "to_seq": export.to_seq}


def _sequence_check(export: Export) -> Callable[[Mapping[str, Any]], None]:
    expected = export.from_seq

    def check(record: Mapping[str, Any]) -> None:
        nonlocal expected
        domain.check_next_seq(int(record.get("seq", 0)), expected, export.to_seq)
        expected += 1

    return check


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"could not write the extract: {exc}"
    return str(exc) or type(exc).__name__
