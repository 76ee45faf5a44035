"""Use cases of the audit log: append (the one sequencing writer), list, stream and verify."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from runtime.auth import Principal
from runtime.canonical import canonical_json
from runtime.db import Database
from runtime.errors import InvalidArgument
from runtime.outbox import person
from runtime.telemetry import current_trace_id
from services.audit import repository
from services.audit.domain import Actor, AppendResult, Event, Record, sequence
from services.audit.validation import validate
from services.audit.verification import ChainVerifier, Verdict

PAGE = 500
DEFAULT_LIMIT = 50
VERIFIED = "audit.chain.verified"


@dataclass(frozen=True)
class Page:
    records: list[Record]
    last_seq: int
    log_size: int


async def append(db: Database, events: Sequence[Event]) -> list[AppendResult]:
    """Sequences a batch in one transaction under the head lock; idempotent on event_id.
    Returns one result per event, in request order, only after the batch committed. A repeat
    of an id earlier in the same batch is reported as a duplicate of that first occurrence."""
    valid = validate(events)
    if not valid:
        return []
    async with db.transaction() as session:
        current = await repository.lock_head(session)
        ids = list(dict.fromkeys(event.event_id for event in valid))
        batch = sequence(current, valid, await repository.existing_seqs(session, ids))
        if batch.records:
            await repository.add_records(session, batch.records)
            await repository.save_head(session, batch.head)
    return batch.results


async def list_records(db: Database, *, after_seq: int, limit: int, target: str = "") -> Page:
    if after_seq < -1:
        raise InvalidArgument("after_seq must be -1 (from the start) or a seq")
    if limit < 0:
        raise InvalidArgument("limit must not be negative")
    async with db.transaction() as session:
        size = (await repository.read_head(session)).size
        found = await repository.page(
            session, after_seq=after_seq, limit=min(limit or DEFAULT_LIMIT, PAGE), target=target
        )
    return Page(found, found[-1].seq if found else -1, size)


async def stream(db: Database, *, from_seq: int, to_seq: int) -> AsyncIterator[Record]:
    """Records with from_seq <= seq <= to_seq (to_seq -1: the end of the log when called), read
    in pages, each in its own short transaction so a slow reader holds nothing open."""
    if from_seq < 0 or to_seq < -1:
        raise InvalidArgument("from_seq must be >= 0 and to_seq >= -1")
    if to_seq == -1:
        async with db.transaction() as session:
            to_seq = (await repository.read_head(session)).size - 1
    after = from_seq - 1
    while after < to_seq:
        async with db.transaction() as session:
            found = await repository.page(session, after_seq=after, limit=PAGE, upto=to_seq)
        if not found:
            return
        for record in found:
            yield record
        after = found[-1].seq


async def verify_chain(db: Database, *, caller: Principal) -> Verdict:
    """Verifies the log up to the head read at the start, a page at a time, then records the
    verification itself in the log (action audit.chain.verified, the verdict as payload)."""
    async with db.transaction() as session:
        current = await repository.read_head(session)
    verifier, after = ChainVerifier(), -1
    while after < current.size - 1:
        async with db.transaction() as session:
            found = await repository.page(
                session, after_seq=after, limit=PAGE, upto=current.size - 1
            )
        if not found or not verifier.feed(found):
            break
        after = found[-1].seq
    verdict = verifier.finish(current)
    await append(db, [_verified(verdict, caller)])
    return verdict


def _verified(verdict: Verdict, caller: Principal) -> Event:
    actor = person(caller)
    return Event(
        event_id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        actor=Actor(**{**actor, "roles": tuple(actor["roles"])}),
        action=VERIFIED,
        target="log/audit",
        outcome="success" if verdict.ok else "failure",
        trace_id=current_trace_id(),
        source="audit",
        payload_json=canonical_json(verdict.as_payload()),
    )
