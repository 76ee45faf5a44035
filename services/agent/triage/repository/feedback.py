"""Rows of agent.feedback, and the counts triage metrics are made of."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, insert, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.triage.domain.feedback import Feedback, VersionCounts
from services.agent.triage.tables import decisions, feedback


async def add(session: AsyncSession, item: Feedback) -> None:
    await session.execute(insert(feedback).values(**asdict(item)))


async def decision_counts(
    session: AsyncSession, column: str, since: datetime | None, until: datetime | None
) -> dict[str, int]:
    """Decisions made in [since, until), counted by `column` (severity, category, ...)."""
    grouped = decisions.c[column]
    query = select(grouped, func.count()).where(_window(since, until)).group_by(grouped)
    return {str(key): count for key, count in (await session.execute(query)).tuples()}


async def version_counts(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> list[VersionCounts]:
    """Per logic version: decisions in the window, and feedback given on those decisions."""
    f, d = feedback.c, decisions.c
    query = (
        select(
            d.logic_version,
            func.count(func.distinct(d.id)),
            func.count(f.id),
            func.count(case((f.verdict == "agree", 1))),
            func.count(case((f.verdict == "override", 1))),
        )
        .select_from(decisions.outerjoin(feedback, f.decision_id == d.id))
        .where(_window(since, until))
        .group_by(d.logic_version)
        .order_by(d.logic_version)
    )
    return [VersionCounts(*row) for row in (await session.execute(query)).tuples()]


def _window(since: datetime | None, until: datetime | None) -> ColumnElement[bool]:
    bounds: list[ColumnElement[bool]] = [true()]
    if since is not None:
        bounds.append(decisions.c.created_at >= since)
    if until is not None:
        bounds.append(decisions.c.created_at < until)
    return and_(*bounds)
