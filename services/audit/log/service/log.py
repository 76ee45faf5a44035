"""Use cases of the audit log: append (through the sequencer), audited reads, proofs,
checkpoints, redaction and verification. Reading the log, its proofs and running verification
are themselves appended as events, so the log says who looked at it. Read-audit events are
enqueued, not waited for (a crash loses at most those of the last commit window; see
read_audit.py for proofs); verification and redaction records are waited for."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from runtime.auth import Principal
from runtime.canonical import canonical_json
from runtime.db import Database
from runtime.errors import InvalidArgument
from runtime.outbox import person
from runtime.telemetry import current_trace_id
from services.audit.log.domain.filters import Filter
from services.audit.log.domain.records import Actor, AppendResult, Event, Record
from services.audit.log.domain.validation import validate
from services.audit.log.repository import records as repository
from services.audit.log.service.proof_reads import ProofReads, Window
from services.audit.log.service.sequencer import Sequencer

PAGE = 500
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class AuditLog:
    """What the use cases work with: the database, the one writer, and the log's name."""

    db: Database
    sequencer: Sequencer
    origin: str
    proof_reads: ProofReads = field(default_factory=ProofReads)


@dataclass(frozen=True)
class Page:
    records: list[Record]
    last_seq: int
    log_size: int


async def append(log: AuditLog, events: Sequence[Event]) -> list[AppendResult]:
    """Idempotent on event_id; answered only after the batch holding the events committed."""
    return await log.sequencer.append(validate(events))


async def record_own(
    log: AuditLog,
    caller: Principal | Actor,
    action: str,
    target: str,
    payload: dict[str, Any],
    outcome: str = "success",
) -> None:
    """Appends an event the audit service itself causes (reads, verification, redaction)."""
    await log.sequencer.append([own_event(caller, action, target, payload, outcome)])


def note_read(
    log: AuditLog, caller: Principal | Actor, action: str, target: str, payload: dict[str, Any]
) -> None:
    """Enqueues the audit event of a read and returns at once: the read's answer never waits
    for a durable commit of its own audit record."""
    log.sequencer.enqueue([own_event(caller, action, target, payload, "success")])


def note_inclusion_proof(log: AuditLog, caller: Principal, seq: int, tree_size: int) -> None:
    def flush(actor: Actor, window: Window) -> None:
        event = own_event(actor, "audit.proof.inclusion", window.target, window.payload, "success")
        trace_id = window.trace_ids[0] if window.trace_ids else ""
        started = dataclasses.replace(event, occurred_at=window.started, trace_id=trace_id)
        log.sequencer.enqueue([started])

    log.proof_reads.note(_actor(caller), seq, tree_size, current_trace_id(), flush)


def own_event(
    caller: Principal | Actor, action: str, target: str, payload: dict[str, Any], outcome: str
) -> Event:
    actor = caller if isinstance(caller, Actor) else _actor(caller)
    return Event(
        event_id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        actor=actor,
        action=action,
        target=target,
        outcome=outcome,
        trace_id=current_trace_id(),
        source="audit",
        payload_json=canonical_json(payload),
    )


def _actor(principal: Principal) -> Actor:
    fields = person(principal)
    return Actor(**{**fields, "roles": tuple(fields["roles"])})


async def list_records(
    log: AuditLog,
    *,
    caller: Principal,
    after_seq: int,
    limit: int,
    target: str = "",
    where: Filter | None = None,
) -> Page:
    if after_seq < -1:
        raise InvalidArgument("after_seq must be -1 (from the start) or a seq")
    if limit < 0:
        raise InvalidArgument("limit must not be negative")
    # The reads enqueued before this one are in the page: a reader sees the log's own record
    # of earlier reads (and the wait is one commit at most, only when some are pending).
    await log.sequencer.settled()
    async with log.db.transaction() as session:
        size = (await repository.read_head(session)).size
        found = await repository.page(
            session,
            after_seq=after_seq,
            limit=min(limit or DEFAULT_LIMIT, PAGE),
            target=target,
            where=where,
        )
    query = {"after_seq": after_seq, "target": target, **(where.as_payload() if where else {})}
    note_read(log, caller, "audit.records.read", "log/audit", {**query, "count": len(found)})
    return Page(found, found[-1].seq if found else -1, size)


async def stream(
    log: AuditLog, *, caller: Principal, from_seq: int, to_seq: int
) -> AsyncIterator[Record]:
    """Records with from_seq <= seq <= to_seq (to_seq -1: the end of the log when called), read
    in pages, each in its own short transaction so a slow reader holds nothing open."""
    to_seq = await start_stream(log, caller=caller, from_seq=from_seq, to_seq=to_seq)
    after = from_seq - 1
    while after < to_seq:
        async with log.db.transaction() as session:
            found = await repository.page(session, after_seq=after, limit=PAGE, upto=to_seq)
        if not found:
            return
        for record in found:
            yield record
        after = found[-1].seq


async def start_stream(log: AuditLog, *, caller: Principal, from_seq: int, to_seq: int) -> int:
    """Checks a stream's range and audits the read; returns its last seq (to_seq, or for -1 the
    log's last seq now)."""
    if from_seq < 0 or to_seq < -1 or (to_seq != -1 and to_seq < from_seq):
        raise InvalidArgument("from_seq must be >= 0 and to_seq -1 or >= from_seq")
    # The reads enqueued before this one are in the stream.
    await log.sequencer.settled()
    if to_seq == -1:
        async with log.db.transaction() as session:
            to_seq = (await repository.read_head(session)).size - 1
    span = {"from_seq": from_seq, "to_seq": to_seq}
    note_read(log, caller, "audit.records.streamed", "log/audit", span)
    return to_seq


ANONYMOUS = Actor("anonymous", (), "person", "", "")


async def record_refusal(
    log: AuditLog, method: str, principal: Principal | None, reason: str
) -> None:
    """The guard's hook: a refused call is an audit event (not waited for by the caller)."""
    caller = principal if principal is not None else ANONYMOUS
    payload = {"method": method, "reason": reason}
    await record_own(log, caller, "audit.access.denied", f"rpc{method}", payload, "denied")
