"""One replica forwards a destination at a time: a session-level Postgres advisory lock,
keyed (hashtext('tradeops.siem'), hashtext(destination)), held on a connection of its own for
as long as the forwarder runs. Postgres frees it when that session ends, so a crashed replica
is replaced by a standby within a poll. Needs session pooling (not PgBouncer transaction mode)."""

from __future__ import annotations

import contextlib

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

LOCK = text("SELECT pg_try_advisory_lock(hashtext('tradeops.siem'), hashtext(:destination))")


class AdvisoryClaim:
    def __init__(self, engine: AsyncEngine, destination: str) -> None:
        self._engine, self._destination = engine, destination
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> bool:
        """True when this process holds the destination (again or still)."""
        if await self.held():
            return True
        connection = await self._engine.connect()
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            result = await connection.execute(LOCK, {"destination": self._destination})
            got = bool(result.scalar_one())
        except BaseException:
            await _discard(connection)
            raise
        if got:
            self._connection = connection
        else:
            await connection.close()
        return got

    async def held(self) -> bool:
        if self._connection is None:
            return False
        try:
            await self._connection.execute(text("SELECT 1"))
        except DBAPIError:
            await self.release()
            return False
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await _discard(connection)


async def _discard(connection: AsyncConnection) -> None:
    # Closing the session is what frees a session lock; a pooled connection would keep it.
    with contextlib.suppress(Exception):
        await connection.invalidate()
    with contextlib.suppress(Exception):
        await connection.close()
