"""Execution rows: one per claim of an approved action, with every delivery attempt."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.remediation.domain.executions import (
    FINAL,
    Attempt,
    ExecutionRecord,
    ExecutionResult,
)
from services.agent.remediation.tables import executions


async def add_claim(
    session: AsyncSession, *, action_id: str, kind: str, executor: str, key: str, now: datetime
) -> str:
    execution_id = str(uuid.uuid4())
    await session.execute(
        insert(executions).values(
            id=execution_id,
            action_id=action_id,
            kind=kind,
            executor=executor,
            state="claiming",
            idempotency_key=key,
            created_at=now,
        )
    )
    return execution_id


async def drop_claim(session: AsyncSession, execution_id: str) -> None:
    c = executions.c
    await session.execute(delete(executions).where(c.id == execution_id, c.state == "claiming"))


async def mark_started(session: AsyncSession, execution_id: str, now: datetime) -> None:
    await _set(session, execution_id, state="executing", started_at=now)


async def finish(
    session: AsyncSession, execution_id: str, result: ExecutionResult, now: datetime
) -> None:
    await _set(
        session,
        execution_id,
        state=FINAL[result.outcome],
        detail=result.detail,
        attempts=len(result.attempts),
        attempt_log=[_attempt_json(a) for a in result.attempts],
        finished_at=now,
    )


async def mark_reported(session: AsyncSession, ids: list[str], now: datetime) -> None:
    await session.execute(
        update(executions).where(executions.c.id.in_(ids)).values(reported_at=now)
    )


async def unreported(session: AsyncSession, action_id: str) -> list[ExecutionRecord]:
    c = executions.c
    query = select(executions).where(c.action_id == action_id, c.reported_at.is_(None))
    rows = await session.execute(query.order_by(c.created_at).with_for_update(skip_locked=True))
    return [_record(row) for row in rows]


async def drop_stale_claims(session: AsyncSession, before: datetime, executing: set[str]) -> int:
    """Claims ops never confirmed (the reply was lost) whose action is not executing."""
    c = executions.c
    stale = delete(executions).where(c.state == "claiming", c.created_at < before)
    if executing:
        stale = stale.where(c.action_id.not_in(executing))
    return len((await session.execute(stale.returning(c.id))).all())


async def list_executions(
    session: AsyncSession, *, action_id: str, limit: int
) -> list[ExecutionRecord]:
    c = executions.c
    query = select(executions).order_by(c.created_at.desc(), c.id.desc()).limit(limit)
    if action_id:
        query = query.where(c.action_id == action_id)
    return [_record(row) for row in await session.execute(query)]


async def _set(session: AsyncSession, execution_id: str, **values: Any) -> None:
    await session.execute(
        update(executions).where(executions.c.id == execution_id).values(**values)
    )


def _attempt_json(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "at": attempt.at.isoformat(),
        "status_code": attempt.status_code,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
    }


def _record(row: Row[Any]) -> ExecutionRecord:
    attempts = tuple(
        Attempt(
            number=a["number"],
            at=datetime.fromisoformat(a["at"]),
            status_code=a["status_code"],
            error=a["error"],
            duration_ms=a["duration_ms"],
        )
        for a in row.attempt_log
    )
    values = row._asdict()
    values.update(id=str(row.id), attempts=attempts)
    del values["attempt_log"]
    return ExecutionRecord(**values)
