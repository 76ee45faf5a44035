"""Redactions: a row in audit.redactions saying who removed a payload's text and why, and the
payload itself set to NULL in the same transaction (its only change after the append)."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.tables import payloads, redactions


async def is_redacted(session: AsyncSession, seq: int) -> bool:
    done = await session.execute(select(redactions.c.seq).where(redactions.c.seq == seq))
    return done.first() is not None


async def redact(session: AsyncSession, seq: int, redacted_by: str, reason: str) -> None:
    row = {"seq": seq, "redacted_by": redacted_by, "reason": reason}
    await session.execute(insert(redactions).values(**row))
    await session.execute(update(payloads).where(payloads.c.seq == seq).values(payload_json=None))


async def redacted_seqs(session: AsyncSession, upto: int) -> set[int]:
    rows = await session.execute(select(redactions.c.seq).where(redactions.c.seq <= upto))
    return {row.seq for row in rows}
