"""Running a use case that takes a Database inside a transaction already open: the timer worker
runs a timer's effect in the transaction that claimed the timer, and an escalation reassigns
through the assignment use case in the escalation's own transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import Database


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
