"""Redaction: a compliance or admin user removes a payload's text (personal data, say). The
record keeps payload_sha256, so its leaf hash and every proof stay valid; the redaction row
says who and why, and the act itself is an audit event."""

from __future__ import annotations

from sqlalchemy import insert, select, update

from runtime.auth import Principal
from runtime.errors import Conflict, InvalidArgument, NotFound
from services.audit.log.domain.records import Record
from services.audit.log.repository import records as repository
from services.audit.log.service.log import AuditLog, record_own
from services.audit.tables import payloads, redactions


async def redact(log: AuditLog, *, caller: Principal, seq: int, reason: str) -> Record:
    if not reason.strip():
        raise InvalidArgument("a redaction needs a reason")
    async with log.db.transaction() as session:
        done = await session.execute(select(redactions.c.seq).where(redactions.c.seq == seq))
        if done.first() is not None:
            raise Conflict(f"the payload of seq {seq} is already redacted")
        found = await repository.page(session, after_seq=seq - 1, limit=1, upto=seq)
        if not found:
            raise NotFound(f"no record with seq {seq}")
        row = {"seq": seq, "redacted_by": caller.subject, "reason": reason}
        await session.execute(insert(redactions).values(**row))
        await session.execute(
            update(payloads).where(payloads.c.seq == seq).values(payload_json=None)
        )
    await record_own(log, caller, "audit.payload.redacted", f"record/{seq}", {"reason": reason})
    async with log.db.transaction() as session:
        return (await repository.page(session, after_seq=seq - 1, limit=1, upto=seq))[0]


async def redacted_seqs(log: AuditLog, upto: int) -> set[int]:
    async with log.db.transaction() as session:
        rows = await session.execute(select(redactions.c.seq).where(redactions.c.seq <= upto))
        return {row.seq for row in rows}
