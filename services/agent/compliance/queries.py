"""Reading stored compliance runs and results back."""

from __future__ import annotations

from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound
from services.agent.compliance import repository
from services.agent.compliance.results import CheckResult, Run

DEFAULT_LIMIT, MAX_LIMIT = 50, 500


async def get_run(db: Database, *, run_id: str) -> Run:
    async with db.transaction() as session:
        run = await repository.get_run(session, run_id)
    if run is None:
        raise NotFound(f"no compliance run {run_id!r}")
    return run


async def list_runs(db: Database, *, limit: int) -> list[Run]:
    async with db.transaction() as session:
        return await repository.list_runs(session, _limit(limit, 20, 200))


async def list_results(
    db: Database, *, check_id: str, status: str, limit: int
) -> list[CheckResult]:
    async with db.transaction() as session:
        return await repository.list_results(
            session, check_id=check_id, status=status, limit=_limit(limit, DEFAULT_LIMIT, MAX_LIMIT)
        )


def _limit(limit: int, default: int, cap: int) -> int:
    if limit < 0:
        raise InvalidArgument("limit must not be negative")
    return min(limit or default, cap)
