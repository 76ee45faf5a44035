"""Rows of the compliance tables to runs and results and back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.paging import After
from services.agent.compliance.domain.checks import Finding
from services.agent.compliance.domain.results import CheckResult, Run
from services.agent.compliance.tables import compliance_results as results
from services.agent.compliance.tables import compliance_runs as runs
from services.agent.triage import newest_first


async def add_run(session: AsyncSession, run: Run) -> None:
    await session.execute(
        insert(runs).values(
            id=run.id,
            trigger=run.trigger,
            requested_by=run.requested_by,
            started_at=run.started_at,
            finished_at=run.finished_at,
            ok=run.ok,
        )
    )
    if run.results:
        await session.execute(insert(results), [_result_row(r) for r in run.results])


def _result_row(result: CheckResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "run_id": result.run_id,
        "check_id": result.check_id,
        "check_version": result.check_version,
        "description": result.description,
        "status": result.status,
        "examined": result.examined,
        "evidence": [evidence_json(f) for f in result.evidence],
        "detail": result.detail,
        "incident_id": result.incident_id,
        "checked_at": result.checked_at,
    }


def evidence_json(finding: Finding) -> dict[str, Any]:
    return {"ref": finding.ref, "reason": finding.reason, "facts": dict(finding.facts)}


async def link_incident(session: AsyncSession, result_id: str, incident_id: str) -> None:
    await session.execute(
        update(results).where(results.c.id == result_id).values(incident_id=incident_id)
    )


async def get_run(session: AsyncSession, run_id: str) -> Run | None:
    row = (await session.execute(select(runs).where(runs.c.id == run_id))).one_or_none()
    return (await _with_results(session, [row]))[0] if row else None


async def list_runs(session: AsyncSession, limit: int) -> list[Run]:
    query = select(runs).order_by(runs.c.started_at.desc(), runs.c.id).limit(limit)
    return await _with_results(session, (await session.execute(query)).all())


async def list_results(
    session: AsyncSession, *, check_id: str, status: str, after: After | None, limit: int
) -> list[CheckResult]:
    query = newest_first(select(results), results.c.checked_at, results.c.id, after).limit(limit)
    if check_id:
        query = query.where(results.c.check_id == check_id)
    if status:
        query = query.where(results.c.status == status)
    return [_result(row) for row in (await session.execute(query)).all()]


async def _with_results(session: AsyncSession, rows: Sequence[Row[Any]]) -> list[Run]:
    ids = [row.id for row in rows]
    found = (
        await session.execute(
            select(results).where(results.c.run_id.in_(ids)).order_by(results.c.check_id)
        )
    ).all()
    by_run: dict[str, list[CheckResult]] = {run_id: [] for run_id in ids}
    for row in found:
        by_run[row.run_id].append(_result(row))
    return [_run(row, by_run[row.id]) for row in rows]


def _run(row: Row[Any], found: list[CheckResult]) -> Run:
    return Run(row.id, row.trigger, row.requested_by, row.started_at, row.finished_at, tuple(found))


def _result(row: Row[Any]) -> CheckResult:
    evidence = tuple(Finding(e["ref"], e["reason"], e.get("facts", {})) for e in row.evidence)
    return CheckResult(
        id=row.id,
        run_id=row.run_id,
        check_id=row.check_id,
        check_version=row.check_version,
        description=row.description,
        status=row.status,
        examined=row.examined,
        evidence=evidence,
        detail=row.detail,
        checked_at=row.checked_at,
        incident_id=row.incident_id,
    )
