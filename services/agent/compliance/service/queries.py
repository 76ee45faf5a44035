"""Reading stored compliance runs and results back."""

from __future__ import annotations

from dataclasses import dataclass

from runtime import paging
from runtime.db import Database
from runtime.errors import InvalidArgument, NotFound
from services.agent.compliance.domain.results import CheckResult, Run
from services.agent.compliance.repository import runs as repository
from services.agent.triage import cut


@dataclass(frozen=True)
class ResultPage:
    results: list[CheckResult]
    next_token: str  # empty on the last page


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
    db: Database, *, check_id: str, status: str, page_size: int, page_token: str = ""
) -> ResultPage:
    """Newest first (ties by id); `page_size` already checked and capped by paging.page_size."""
    after = paging.decode(page_token)
    async with db.transaction() as session:
        found = await repository.list_results(
            session, check_id=check_id, status=status, after=after, limit=page_size + 1
        )
    return ResultPage(*cut(found, page_size, lambda result: result.checked_at))


def _limit(limit: int, default: int, cap: int) -> int:
    if limit < 0:
        raise InvalidArgument("limit must not be negative")
    return min(limit or default, cap)
