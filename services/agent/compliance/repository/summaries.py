"""Rows of agent.audit_summaries to summaries and back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.compliance.domain.summaries import (
    Bound,
    Narration,
    Summary,
    figures_from,
    figures_json,
)
from services.agent.compliance.tables import audit_summaries as table


async def add(session: AsyncSession, summary: Summary) -> None:
    llm = summary.llm or Narration("", "", "")
    await session.execute(
        insert(table).values(
            id=summary.id,
            since=summary.since,
            until=summary.until,
            first_seq=summary.figures.first_seq,
            last_seq=summary.figures.last_seq,
            record_count=summary.figures.record_count,
            log_size=summary.bound.log_size,
            checkpoint_size=summary.bound.size if summary.bound.root else 0,
            checkpoint_root=summary.bound.root,
            checkpoint_key_id=summary.bound.key_id,
            figures=figures_json(summary.figures),
            narrative=summary.narrative,
            narrator=summary.narrator,
            llm_model=llm.model,
            llm_prompt=llm.prompt,
            llm_output=llm.output,
            desk_hours=summary.desk_hours,
            requested_by=summary.requested_by,
            created_at=summary.created_at,
        )
    )


async def get(session: AsyncSession, summary_id: str) -> Summary | None:
    row = (await session.execute(select(table).where(table.c.id == summary_id))).one_or_none()
    return _summary(row) if row else None


async def newest(session: AsyncSession, limit: int) -> list[Summary]:
    query = select(table).order_by(table.c.created_at.desc(), table.c.id).limit(limit)
    return [_summary(row) for row in (await session.execute(query)).all()]


def _summary(row: Row[Any]) -> Summary:
    llm = Narration(row.llm_model, row.llm_prompt, row.llm_output) if row.llm_model else None
    size = row.checkpoint_size if row.checkpoint_root else row.log_size
    return Summary(
        id=row.id,
        since=row.since,
        until=row.until,
        figures=figures_from(row.figures),
        bound=Bound(size, row.checkpoint_root, row.checkpoint_key_id, row.log_size),
        narrative=row.narrative,
        narrator=row.narrator,
        llm=llm,
        desk_hours=row.desk_hours,
        requested_by=row.requested_by,
        created_at=row.created_at,
    )
