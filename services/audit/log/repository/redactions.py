"""Redactions: a row in audit.redactions saying who removed a payload's text and why, and the
payload itself set to NULL in the same transaction (its only change after the append); and the
chain's own redaction records, which alone excuse a missing payload."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.tables import payloads, records, redactions


async def is_redacted(session: AsyncSession, seq: int) -> bool:
    done = await session.execute(select(redactions.c.seq).where(redactions.c.seq == seq))
    return done.first() is not None


async def redact(session: AsyncSession, seq: int, redacted_by: str, reason: str) -> None:
    row = {"seq": seq, "redacted_by": redacted_by, "reason": reason}
    await session.execute(insert(redactions).values(**row))
    await session.execute(update(payloads).where(payloads.c.seq == seq).values(payload_json=None))


async def redacted_in_chain(session: AsyncSession, upto: int, action: str) -> set[int]:
    """The seqs that the log's own redaction records (source "audit", before `upto`) name: the
    chain, not the redactions table, says which payloads may be missing, so a row inserted by
    whoever holds the service's database role does not excuse a payload it erased."""
    rows = await session.execute(
        select(records.c.target).where(
            records.c.action == action, records.c.source == "audit", records.c.seq < upto
        )
    )
    targets = (row.target.removeprefix("record/") for row in rows)
    return {int(seq) for seq in targets if seq.isdigit()}


async def named_in_chain(session: AsyncSession, seqs: Collection[int], action: str) -> set[int]:
    """Which of `seqs` the log's own redaction records name, wherever in the log they lie (one
    lookup by target, however long the log)."""
    if not seqs:
        return set()
    rows = await session.execute(
        select(records.c.target).where(
            records.c.target.in_([f"record/{seq}" for seq in seqs]),
            records.c.action == action,
            records.c.source == "audit",
        )
    )
    return {int(row.target.removeprefix("record/")) for row in rows}
