"""Live verification of the whole log (on request and on a schedule, workers/verifier.py):
re-derive every hash and the tree, check every signed checkpoint, and name the first bad
record. The run is recorded; a failure also appends an "audit.verification.failed" alert.
A run checks the log up to the head it read first, in pages of short transactions; a payload
redacted meanwhile is excused by its redaction record, read with the page that finds it gone."""

from __future__ import annotations

import logging

from runtime.auth import Principal
from services.audit.log.domain.note import Verifier
from services.audit.log.domain.records import Actor
from services.audit.log.domain.verification import ChainVerifier, SignedRoot, Trust, Verdict
from services.audit.log.repository import checkpoints, head, records
from services.audit.log.service.log import AuditLog, record_own
from services.audit.log.service.reading import PAGE
from services.audit.log.service.redaction import redacted_among, redacted_seqs

log = logging.getLogger(__name__)
AUDITOR = Actor("audit-auditor", (), "agent", "1", "")


async def verify_log(audit: AuditLog, *, caller: Principal | Actor) -> Verdict:
    # Every checkpoint, read before the head: a signed size beyond the head means the log was
    # cut back (a checkpoint cut meanwhile is covered by the newer head, never flagged).
    trust = await _trust(audit)
    async with audit.db.transaction() as session:
        found_head = await head.read_head(session)
    verifier = ChainVerifier(trust)
    excused = await redacted_seqs(audit, found_head.size)
    verifier.allow_redacted(excused)
    after, upto = -1, found_head.size - 1
    while after < upto:
        async with audit.db.transaction() as session:
            found = await records.page(session, after_seq=after, limit=PAGE, upto=upto)
            # A payload may have been redacted since `excused` was read. redact() commits its
            # record in the chain before it removes the payload, so a payload this page found
            # missing has its redaction record visible to the next statement here, or none
            # exists (tampering). Asked only for such payloads: nothing for an ordinary page,
            # one indexed lookup for a page with a fresh redaction. One snapshot for the whole
            # run would be as consistent, but held for minutes on a log of millions of records
            # it holds back vacuum of every service's tables (one database) and piles up dead
            # versions of the head row, which every append locks.
            gone = [r.seq for r in found if r.event.payload_json is None and r.seq not in excused]
            late = await redacted_among(session, gone)
        excused |= late
        verifier.allow_redacted(late)
        if not found or not verifier.feed(found):
            break
        after = found[-1].seq
    verdict = verifier.finish(found_head)
    try:
        await _record(audit, caller, verdict)
    except Exception:
        # A log damaged at its tail cannot take new records; the verdict must still be told.
        log.critical("could not record the verification in the damaged log", exc_info=True)
    return verdict


async def _trust(audit: AuditLog) -> Trust:
    async with audit.db.transaction() as session:
        signed = await checkpoints.upto(session, 2**63 - 1)
    # Only the configured keyring is trusted: the service's role can write the database.
    keys = audit.keyring.public_keys()
    roots = {
        cp.tree_size: SignedRoot(
            cp.root_hex,
            cp.note,
            tuple(Verifier.parse(k.vkey) for k in keys if k.covers(cp.tree_size)),
        )
        for cp in signed
    }
    return Trust(audit.origin, roots)


async def _record(audit: AuditLog, caller: Principal | Actor, verdict: Verdict) -> None:
    outcome = "success" if verdict.ok else "failure"
    payload = verdict.as_payload()
    await record_own(audit, caller, "audit.chain.verified", "log/audit", payload, outcome)
    if not verdict.ok:
        log.error(
            "audit log verification failed at seq %d: %s", verdict.first_bad_seq, verdict.reason
        )
        await record_own(
            audit, AUDITOR, "audit.verification.failed", "log/audit", payload, "failure"
        )
