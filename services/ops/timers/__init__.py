"""Durable timers: rows in ops.timers that a worker (services.ops.timers.worker.timer_worker,
started by the process's __main__) fires once the injected clock passes due_at.

Use cases call `schedule` and `cancel` inside their own transaction, so a timer exists exactly
when the change that needs it committed. Kinds: "expire", "escalate", "remind", "validity_end"."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import Database
from services.ops.timer_tables import timers

KINDS = frozenset({"expire", "escalate", "remind", "validity_end"})


async def schedule(
    session: AsyncSession,
    *,
    action_id: str,
    kind: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown timer kind {kind!r}; known: {sorted(KINDS)}")
    await session.execute(
        insert(timers).values(action_id=action_id, kind=kind, due_at=due_at, payload=payload or {})
    )


async def cancel(
    session: AsyncSession, action_id: str, kinds: Collection[str] | None = None
) -> None:
    """Marks the action's pending timers of `kinds` (None: every kind) cancelled. A timer a
    worker is firing right now is skipped, not waited for: the worker holds it while it waits
    for the action row the caller holds, and every effect re-checks the action, so that timer
    then does nothing."""
    pending = select(timers.c.id).where(
        timers.c.action_id == action_id, timers.c.state == "pending"
    )
    if kinds is not None:
        pending = pending.where(timers.c.kind.in_(list(kinds)))
    free = pending.with_for_update(skip_locked=True).scalar_subquery()
    await session.execute(update(timers).where(timers.c.id.in_(free)).values(state="cancelled"))


class _Joined(Database):
    """A Database whose transactions are savepoints of one already open session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._session.begin_nested():
            yield self._session


def joined(session: AsyncSession) -> Database:
    """Lets a use case that takes a Database run inside `session`'s transaction."""
    return _Joined(session)
