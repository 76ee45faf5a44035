"""Reads of the log are audited without making the reader wait for a commit, and a caller's
inclusion proofs are gathered into one record per window."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

from runtime.auth import Principal
from runtime.canonical import canonical_json
from services.audit.log.domain.checkpoints.cutting import Cadence, Checkpointer
from services.audit.log.domain.filters import Filter
from services.audit.log.domain.records import Actor, Event, canonical_record
from services.audit.log.service.log import AuditLog, append
from services.audit.log.service.proof_reads import ProofReads
from services.audit.log.service.proving import prove_inclusion
from services.audit.log.service.reading import list_records
from services.audit.log.service.sequencer import Sequencer
from tests.audit.factories import READER, events
from tests.audit.logs import ORIGIN, shared_keyring

VERIFIER = Principal("victor", frozenset({"viewer"}))


async def proof_records(log: AuditLog) -> list[dict[str, object]]:
    await log.sequencer.settled()
    where = Filter(action="audit.proof.inclusion")
    page = await list_records(log, caller=READER, after_seq=-1, limit=100, where=where)
    return [
        {"subject": r.event.actor.subject, "target": r.event.target, **json.loads(payload)}
        for r in page.records
        if (payload := r.event.payload_json)
    ]


async def test_proofs_asked_by_one_caller_within_a_window_are_one_record_with_count_and_seqs(
    empty_log: AuditLog,
) -> None:
    await append(empty_log, events(8))  # the first batch always cuts a checkpoint
    log = dataclasses.replace(empty_log, proof_reads=ProofReads(window_s=0.05))

    for seq in (3, 1, 3):
        await prove_inclusion(log, caller=VERIFIER, seq=seq, tree_size=0)
    await prove_inclusion(log, caller=READER, seq=5, tree_size=0)
    await asyncio.sleep(0.2)

    found = sorted(await proof_records(log), key=lambda r: str(r["subject"]))
    assert [(r["subject"], r["target"], r["count"], r["seqs"]) for r in found] == [
        ("vera", "record/5", 1, [5]),
        ("victor", "log/audit", 3, [3, 1, 3]),
    ]
    assert found[1]["tree_sizes"] == [8]


async def test_a_proof_is_answered_without_waiting_for_its_own_audit_record(
    empty_log: AuditLog,
) -> None:
    await append(empty_log, events(4))
    # A second log on the same database whose writer never runs: nothing it queues commits.
    stalled = Sequencer(empty_log.db, Checkpointer(shared_keyring(), ORIGIN, Cadence()))
    log = AuditLog(empty_log.db, stalled, ORIGIN, ProofReads(window_s=0.01))

    proved = await asyncio.wait_for(prove_inclusion(log, caller=VERIFIER, seq=2, tree_size=0), 5)

    assert (proved.seq, proved.tree_size) == (2, 4)


def test_the_record_encoding_is_canonical_json_of_its_fields() -> None:
    tricky = Event(
        event_id="0b6e3a4e-0000-4000-8000-000000000001",
        occurred_at=datetime(2024, 5, 1, 14, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))),
        actor=Actor('ali "the" ce', ("ops", "ünï"), "person", "2", "fx\\desk"),
        action="ops.action.approved",
        target="desk/zürich\n\t\u2028",
        outcome="success",
        trace_id="",
        source="ops",
        payload_json="{}",
    )
    fields = {
        "seq": 42,
        "event_id": tricky.event_id,
        "occurred_at": "2024-05-01T12:00:00.000005Z",
        "actor": tricky.actor.as_dict(),
        "action": tricky.action,
        "target": tricky.target,
        "outcome": tricky.outcome,
        "trace_id": tricky.trace_id,
        "source": tricky.source,
        "payload_sha256": "ab" * 32,
        "prev_hash": "cd" * 32,
    }

    assert canonical_record(42, tricky, "ab" * 32, "cd" * 32) == canonical_json(fields)
    assert tricky.occurred_at.astimezone(UTC).hour == 12
