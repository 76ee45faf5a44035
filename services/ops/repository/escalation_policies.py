"""Rows of ops.escalation_policies to EscalationPolicy objects and back. Rows are only ever
inserted: a change is the next version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.ops.domain.escalation import EscalationPolicy, Level
from services.ops.tables import escalation_policies as table


async def next_version(session: AsyncSession, policy_id: str) -> int:
    latest = select(func.coalesce(func.max(table.c.version), 0)).where(table.c.id == policy_id)
    return int((await session.execute(latest)).scalar_one()) + 1


async def add(session: AsyncSession, policy: EscalationPolicy) -> bool:
    """Inserts this version; False when another writer stored it first."""
    inserted = await session.execute(
        insert(table).values(**row_of(policy)).on_conflict_do_nothing().returning(table.c.id)
    )
    return inserted.first() is not None


async def current(session: AsyncSession) -> list[EscalationPolicy]:
    """The current (highest) version of every policy, by id."""
    query = select(table).distinct(table.c.id).order_by(table.c.id, table.c.version.desc())
    return [_policy(row) for row in (await session.execute(query)).all()]


async def load(
    session: AsyncSession, policy_id: str, version: int | None = None
) -> EscalationPolicy | None:
    """Version `version` of the policy, or its current version when None."""
    query = select(table).where(table.c.id == policy_id)
    if version is not None:
        query = query.where(table.c.version == version)
    row = (await session.execute(query.order_by(table.c.version.desc()).limit(1))).first()
    return _policy(row) if row else None


def row_of(policy: EscalationPolicy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "version": policy.version,
        "levels": [
            {
                "after_s": lv.after_s,
                "notify": list(lv.notify),
                "assign_to": lv.assign_to,
                "assign_team": lv.assign_team,
            }
            for lv in policy.levels
        ],
        "repeat_limit": policy.repeat_limit,
        "remind_before_expiry_s": policy.remind_before_expiry_s,
        "changed_by": policy.changed_by,
        "changed_at": policy.changed_at,
    }


def _policy(row: Row[Any]) -> EscalationPolicy:
    levels = tuple(
        Level(int(lv["after_s"]), tuple(lv["notify"]), lv["assign_to"], lv["assign_team"])
        for lv in row.levels
    )
    return EscalationPolicy(
        id=row.id,
        levels=levels,
        repeat_limit=row.repeat_limit,
        remind_before_expiry_s=row.remind_before_expiry_s,
        version=row.version,
        changed_by=row.changed_by,
        changed_at=row.changed_at,
    )
