"""How the ops repository writes: every write is one SQL statement with %s placeholders and
its parameters (a `Write`), built by the module of the table it writes. It runs inside the
caller's transaction, which is either a use case's ORM session (`Database.transaction`: the
statement goes to the driver as it is, through the session's connection, so the SQLAlchemy
instrumentation still traces it) or a plain psycopg connection (`runtime.db_unit`, the
vote's hot path). Either way the very same statement writes the row: one write path per table.
Several writes go as one statement, each a data-modifying WITH query: one round trip."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import RawConnection

Write = tuple[str, Sequence[Any]]
Target = AsyncSession | RawConnection


async def run(target: Target, *writes: Write) -> None:
    """Runs the writes in one statement (they must touch different rows: their order inside
    it is not defined); any failure fails the caller's transaction."""
    if not writes:
        return
    sql, params = statement(*writes)
    await _execute(target, sql, params)


def statement(*writes: Write) -> Write:
    """The writes as one statement (at least one)."""
    if len(writes) == 1:
        return writes[0]
    sql = "WITH " + ", ".join(f"w{i} AS ({each})" for i, (each, _) in enumerate(writes))
    return sql + " SELECT 1", [p for _, each in writes for p in each]


async def run_returning(target: Target, write: Write) -> Any:
    """Runs one write that returns one row and gives the row's first column."""
    sql, params = write
    if isinstance(target, AsyncSession):
        result = await (await target.connection()).exec_driver_sql(sql, tuple(params))
        return result.scalar_one()
    row = await (await target.execute(sql, params)).fetchone()
    assert row is not None, "the write returns a row"
    return row[0]


async def _execute(target: Target, sql: str, params: Sequence[Any]) -> None:
    if isinstance(target, AsyncSession):
        await (await target.connection()).exec_driver_sql(sql, tuple(params))
    else:
        await target.execute(sql, params)
