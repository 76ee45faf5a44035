"""Pool sizing and the plain read connections of runtime.db, on a real PostgreSQL."""

from __future__ import annotations

from runtime.db import Database, make_engine, pool_size_from_env


def test_the_pool_size_comes_from_TRADEOPS_DB_POOL_SIZE_and_defaults_to_10() -> None:
    assert pool_size_from_env({"TRADEOPS_DB_POOL_SIZE": "3"}) == 3
    assert pool_size_from_env({}) == 10


async def test_an_engine_has_exactly_its_pool_size_and_no_overflow(db_urls: dict[str, str]) -> None:
    engine = make_engine(db_urls["audit"], pool_size=2)
    try:
        assert (engine.pool.size(), engine.pool.overflow()) == (2, -2)  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_a_plain_read_connection_answers_and_is_lent_again(db_urls: dict[str, str]) -> None:
    db = Database.connect(db_urls["audit"], pool_size=1)
    try:
        async with db.read() as first:
            cursor = await first.execute("SELECT size FROM audit.head")
            assert len(await cursor.fetchall()) == 1
        async with db.read() as second:
            assert second is first
    finally:
        await db.dispose()
