"""Database engines and the unit of work. One transaction per use case: the unit of work
commits the business rows and their outbox rows together, or rolls both back.

TRADEOPS_DB_POOL_SIZE (default 10) sizes a service's pool; there is no overflow, so a burst
waits for a pooled connection instead of opening and closing short-lived ones."""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

POOL_SIZE_ENV = "TRADEOPS_DB_POOL_SIZE"
DEFAULT_POOL_SIZE = 10
SERVICE_PRIVILEGES = "service_privileges"
RawConnection = psycopg.AsyncConnection[Any]


def sqlalchemy_url(url: str) -> str:
    """Accepts plain postgresql:// URLs and selects the psycopg (v3) driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def service_privileges(*privileges: str) -> dict[str, Any]:
    """A Table's `info` naming what the service's own role may do on it, e.g. "SELECT",
    "UPDATE (column)"; runtime.migrate grants exactly that after every migration."""
    return {SERVICE_PRIVILEGES: privileges}


def pool_size_from_env(env: Mapping[str, str] | None = None) -> int:
    found = (os.environ if env is None else env).get(POOL_SIZE_ENV, "")
    return int(found) if found.strip() else DEFAULT_POOL_SIZE


def make_engine(
    url: str, *, pool_size: int | None = None, max_overflow: int = 0, pre_ping: bool = True
) -> AsyncEngine:
    size = pool_size_from_env() if pool_size is None else pool_size
    return create_async_engine(
        sqlalchemy_url(url), pool_size=size, max_overflow=max_overflow, pool_pre_ping=pre_ping
    )


def conninfo(engine: AsyncEngine) -> str:
    """The engine's URL as psycopg takes it, for a connection of its own beside the pool."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """`async with db.transaction() as session:` is one unit of work: it commits when the block
    ends normally and rolls back when it raises. Use cases never commit piecemeal.

    `async with db.read() as connection:` lends a plain psycopg connection for a single-statement
    read on a hot path (autocommit, no ORM session: several times cheaper per call).

    `async with db.raw_transaction() as connection:` is a unit of work on a plain psycopg
    connection, for a hot path that writes: it commits when the block ends normally and rolls
    back when it raises, like transaction()."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # Sessions bound to one connection (tests) share it: one transaction at a time.
        self._one_at_a_time = None if self.engine is not None else asyncio.Lock()
        self._reads: _ReadConnections | None = None
        self._pinger: RawConnection | None = None

    @classmethod
    def connect(cls, url: str, *, pool_size: int | None = None) -> Database:
        return cls(session_factory(make_engine(url, pool_size=pool_size)))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._serialised(), self._sessions.begin() as session:
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[RawConnection]:
        engine = self.pooled
        if engine is None:  # the read runs inside a transaction() like any other
            async with self.transaction() as session:
                raw = await (await session.connection()).get_raw_connection()
                assert raw.driver_connection is not None
                yield raw.driver_connection
            return
        if self._reads is None:
            self._reads = _ReadConnections(engine)
        async with self._reads.lend() as connection:
            yield connection

    @asynccontextmanager
    async def raw_transaction(self) -> AsyncIterator[RawConnection]:
        if self.pooled is None:  # one shared connection (tests): the session's own transaction
            async with self.transaction() as session:
                raw = await (await session.connection()).get_raw_connection()
                assert raw.driver_connection is not None
                yield raw.driver_connection
            return
        async with self.read() as connection, connection.transaction():
            yield connection

    async def ping(self, timeout_s: float) -> None:
        """`SELECT 1` on a connection of its own, outside the pool: a pool busy with work is not
        a database out of reach. Raises when the database does not answer; the next ping then
        connects again. A connection the server ended (a restart ends every session) is
        replaced at once: a database that is back answers this ping."""
        engine = self.engine
        if engine is None:
            async with self.read() as connection:
                await connection.execute("SELECT 1")
            return
        if self._pinger is not None and not self._pinger.closed:
            try:
                await self._pinger.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                await self._drop_pinger()  # the server ended it: a new one answers or says why
            except BaseException:
                await self._drop_pinger()
                raise
        try:
            connect_timeout = max(1, math.ceil(timeout_s))
            self._pinger = await psycopg.AsyncConnection.connect(
                conninfo(engine), autocommit=True, connect_timeout=connect_timeout
            )
            await self._pinger.execute("SELECT 1")
        except BaseException:
            await self._drop_pinger()
            raise

    async def _drop_pinger(self) -> None:
        pinger, self._pinger = self._pinger, None
        if pinger is not None:
            await pinger.close()

    def _serialised(self) -> AbstractAsyncContextManager[Any]:
        return self._one_at_a_time if self._one_at_a_time is not None else nullcontext()

    async def dispose(self) -> None:
        if self._pinger is not None:
            await self._pinger.close()
        if self._reads is not None:
            await self._reads.close()
        bind = self._sessions.kw.get("bind")
        if isinstance(bind, AsyncEngine):
            await bind.dispose()

    @property
    def engine(self) -> AsyncEngine | None:
        bind = self._sessions.kw.get("bind")
        return bind if isinstance(bind, AsyncEngine) else None

    @property
    def pooled(self) -> AsyncEngine | None:
        """The engine whose connections this database lends itself; None with one shared
        connection (tests) or in a subclass that only overrides transaction()."""
        return self.engine if "_sessions" in vars(self) else None


class _ReadConnections:
    """Autocommit connections beside the engine's pool, as many as the engine's pool size."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._conninfo = conninfo(engine)
        self._slots = asyncio.Semaphore(getattr(engine.pool, "size", lambda: 5)())
        self._idle: list[RawConnection] = []

    @asynccontextmanager
    async def lend(self) -> AsyncIterator[RawConnection]:
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self._open()
            try:
                yield connection
            finally:
                if connection.info.transaction_status == TransactionStatus.IDLE:
                    self._idle.append(connection)
                else:  # broken, or cancelled mid-statement: never lend it again
                    await connection.close()

    async def _open(self) -> RawConnection:
        return await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()
