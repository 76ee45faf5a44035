"""The SQL of the approval metrics (services.ops.domain.metrics says what each one means)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, extract, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.ops.domain.metrics import BUCKETS, HUMAN_TOUCHES, ApproverStats, Metrics
from services.ops.tables import actions, timeline, votes


async def measure(
    session: AsyncSession, *, since: datetime | None, until: datetime | None, now: datetime
) -> Metrics:
    """None for since or until: no bound on that side."""
    window = and_(
        actions.c.created_at >= since if since else true(),
        actions.c.created_at < until if until else true(),
    )
    return Metrics(
        counts_by_state=await _counts(session, window),
        mtta_s=await _mtta(session, window),
        time_to_decision_s=await _mean_decision(session, window, approved_only=False),
        approval_latency_s=await _mean_decision(session, window, approved_only=True),
        rejection_rate_by_policy=await _rejection_rates(session, window),
        approvers=await _approvers(session, window),
        backlog=await _backlog(session, window, now),
    )


def _seconds(later: Any, earlier: Any) -> ColumnElement[Any]:
    return extract("epoch", later - earlier)


async def _counts(session: AsyncSession, window: ColumnElement[bool]) -> dict[str, int]:
    query = select(actions.c.state, func.count()).where(window).group_by(actions.c.state)
    return {state: count for state, count in (await session.execute(query)).all()}


async def _mtta(session: AsyncSession, window: ColumnElement[bool]) -> float:
    first = (
        select(timeline.c.action_id, func.min(timeline.c.at).label("at"))
        .where(~timeline.c.machine, timeline.c.kind.in_(HUMAN_TOUCHES))
        .group_by(timeline.c.action_id)
        .subquery()
    )
    query = (
        select(func.avg(_seconds(first.c.at, actions.c.created_at)))
        .select_from(actions.join(first, first.c.action_id == actions.c.id))
        .where(window)
    )
    return float((await session.execute(query)).scalar() or 0.0)


async def _mean_decision(
    session: AsyncSession, window: ColumnElement[bool], *, approved_only: bool
) -> float:
    decided = actions.c.valid_until.is_not(None) if approved_only else true()
    query = select(func.avg(_seconds(actions.c.decided_at, actions.c.created_at))).where(
        window, actions.c.decided_at.is_not(None), decided
    )
    return float((await session.execute(query)).scalar() or 0.0)


async def _rejection_rates(session: AsyncSession, window: ColumnElement[bool]) -> dict[str, float]:
    rejected = func.count().filter(actions.c.valid_until.is_(None))
    query = (
        select(actions.c.policy_id, rejected, func.count())
        .where(window, actions.c.decided_at.is_not(None))
        .group_by(actions.c.policy_id)
    )
    return {pid: no / total for pid, no, total in (await session.execute(query)).all()}


async def _approvers(
    session: AsyncSession, window: ColumnElement[bool]
) -> tuple[ApproverStats, ...]:
    delay = _seconds(votes.c.at, actions.c.created_at)
    query = (
        select(
            votes.c.voter,
            func.count(),
            func.avg(case((votes.c.approve, 1.0), else_=0.0)),
            func.percentile_cont(0.5).within_group(delay),
        )
        .select_from(votes.join(actions, actions.c.id == votes.c.action_id))
        .where(window)
        .group_by(votes.c.voter)
        .order_by(votes.c.voter)
    )
    rows = (await session.execute(query)).all()
    return tuple(ApproverStats(s, n, float(rate), float(median)) for s, n, rate, median in rows)


async def _backlog(
    session: AsyncSession, window: ColumnElement[bool], now: datetime
) -> tuple[tuple[int, int], ...]:
    age = _seconds(now, actions.c.created_at)
    bucket = case(*[(age >= lower, lower) for lower in reversed(BUCKETS)], else_=0)
    query = (
        select(bucket, func.count())
        .where(window, actions.c.state == "PENDING_APPROVAL")
        .group_by(bucket)
    )
    found: dict[int, int] = {int(lower): n for lower, n in (await session.execute(query)).all()}
    return tuple((lower, int(found.get(lower, 0))) for lower in BUCKETS)
