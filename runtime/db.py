"""Database engines and the unit of work. One transaction per use case: the unit of work
commits the business rows and their outbox rows together, or rolls both back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def sqlalchemy_url(url: str) -> str:
    """Accepts plain postgresql:// URLs and selects the psycopg (v3) driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(url), pool_size=pool_size, max_overflow=5, pool_pre_ping=True
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """`async with db.transaction() as session:` is one unit of work: it commits when the block
    ends normally and rolls back when it raises. Use cases never commit piecemeal."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @classmethod
    def connect(cls, url: str) -> Database:
        return cls(session_factory(make_engine(url)))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions.begin() as session:
            yield session

    async def dispose(self) -> None:
        bind = self._sessions.kw.get("bind")
        if isinstance(bind, AsyncEngine):
            await bind.dispose()

    @property
    def engine(self) -> AsyncEngine | None:
        bind = self._sessions.kw.get("bind")
        return bind if isinstance(bind, AsyncEngine) else None
