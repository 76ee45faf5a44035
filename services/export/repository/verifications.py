"""Every verification of an export (export.verifications), passed or not."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.export.domain.delivery import Verification
from services.export.repository.outbox import Actor, subject
from services.export.tables import verifications


async def add_verification(session: AsyncSession, verdict: Verification, actor: Actor) -> None:
    await session.execute(
        insert(verifications).values(
            export_id=verdict.export_id,
            checked_at=verdict.checked_at,
            ok=verdict.ok,
            problems=list(verdict.problems),
            fetched_from=verdict.fetched_from,
            actor=subject(actor),
        )
    )
