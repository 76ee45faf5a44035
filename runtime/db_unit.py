"""A unit of work in two round trips, for the hottest write (a vote): BEGIN goes out with the
first statement and COMMIT with the last, each as one simple-query message whose statements
PostgreSQL runs in turn (parameters bound by psycopg's client-side cursor). Each statement still
gets its own snapshot under read committed, so a read after a row lock sees what committed
before the lock was granted. A plain transaction costs five round trips for the same work
(BEGIN, two reads, one write, COMMIT), and on this path each round trip costs more CPU, ours
and PostgreSQL's, than the statement it carries."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from runtime.db import Database, RawConnection

OPEN = (TransactionStatus.INTRANS, TransactionStatus.INERROR)


@dataclass(frozen=True)
class Unit:
    connection: RawConnection
    owned: bool  # False: inside a transaction of the caller's (one shared connection, tests)

    def cursor(self, **kwargs: Any) -> psycopg.AsyncClientCursor[Any]:
        return psycopg.AsyncClientCursor(self.connection, **kwargs)

    async def first(self, cursor: psycopg.AsyncClientCursor[Any], sql: str, params: Any) -> None:
        """Sends `sql` as the unit's first message, after BEGIN, and leaves `cursor` on the
        result of its first statement (BEGIN's own comes before it)."""
        await cursor.execute(f"BEGIN; {sql}" if self.owned else sql, params)
        if self.owned:
            cursor.nextset()

    def last(self, sql: str) -> str:
        """`sql` as the unit's last message: before COMMIT."""
        return f"{sql}; COMMIT" if self.owned else sql


@contextlib.asynccontextmanager
async def unit(db: Database) -> AsyncIterator[Unit]:
    """A connection for a unit sent with Unit.first and Unit.last. Whatever the block leaves
    open (it raised, or never sent its last message) is rolled back; a connection left mid-
    statement (a cancelled call) is closed by the pool instead (Database.read)."""
    if db.pooled is None:
        async with db.raw_transaction() as connection:
            yield Unit(connection, owned=False)
        return
    async with db.read() as connection:
        try:
            yield Unit(connection, owned=True)
        finally:
            if connection.info.transaction_status in OPEN:
                with contextlib.suppress(psycopg.Error):  # then the pool closes it
                    await connection.execute("ROLLBACK")
