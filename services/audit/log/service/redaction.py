"""Redaction: a compliance or admin user removes a payload's text (personal data, say). The
record keeps payload_sha256, so its leaf hash and every proof stay valid; the redaction row
says who and why, and the act itself is an audit event, which is what verification trusts."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.errors import Conflict, InvalidArgument, NotFound
from services.audit.log.domain.records import Record
from services.audit.log.repository import records, redactions
from services.audit.log.service.log import AuditLog, record_own

REDACTED = "audit.payload.redacted"


async def redact(log: AuditLog, *, caller: Principal, seq: int, reason: str) -> Record:
    """The redaction is recorded in the chain first, then the payload removed: a crash between
    leaves a record saying so and the text still there (redact again), never a missing payload
    the chain does not account for."""
    if not reason.strip():
        raise InvalidArgument("a redaction needs a reason")
    async with log.db.transaction() as session:
        if await redactions.is_redacted(session, seq):
            raise Conflict(f"the payload of seq {seq} is already redacted")
        if not await records.page(session, after_seq=seq - 1, limit=1, upto=seq):
            raise NotFound(f"no record with seq {seq}")
    await record_own(log, caller, REDACTED, f"record/{seq}", {"reason": reason})
    async with log.db.transaction() as session:
        if not await redactions.is_redacted(session, seq):  # a concurrent redaction won
            await redactions.redact(session, seq, caller.subject, reason)
        return (await records.page(session, after_seq=seq - 1, limit=1, upto=seq))[0]


async def redacted_seqs(log: AuditLog, upto: int) -> set[int]:
    """The seqs whose payload the chain's records below `upto` allow to be missing."""
    async with log.db.transaction() as session:
        return await redactions.redacted_in_chain(session, upto, REDACTED)


async def redacted_among(session: AsyncSession, seqs: Collection[int]) -> set[int]:
    """Which of `seqs` the chain's redaction records name, at any seq: a redaction made during a
    verification is recorded beyond the head that run checks (the next run checks it)."""
    return await redactions.named_in_chain(session, seqs, REDACTED)
