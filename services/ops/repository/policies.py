"""Rows of ops.approval_policies to Policy objects and back. Rows are only ever inserted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ops.domain.policy import Policy, Risk, RoleRequirement
from services.ops.tables import approval_policies as table


async def current(session: AsyncSession) -> list[Policy]:
    """The latest version of every policy, by id."""
    latest = (
        select(table.c.id, func.max(table.c.version).label("version"))
        .group_by(table.c.id)
        .subquery()
    )
    query = (
        select(table)
        .join(latest, (table.c.id == latest.c.id) & (table.c.version == latest.c.version))
        .order_by(table.c.id)
    )
    return [_policy(row) for row in (await session.execute(query)).all()]


async def history(session: AsyncSession) -> list[Policy]:
    query = select(table).order_by(table.c.id, table.c.version)
    return [_policy(row) for row in (await session.execute(query)).all()]


async def latest(session: AsyncSession, policy_id: str, *, lock: bool = False) -> Policy | None:
    query = select(table).where(table.c.id == policy_id).order_by(table.c.version.desc()).limit(1)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return _policy(row) if row else None


async def add(session: AsyncSession, policy: Policy) -> None:
    await session.execute(insert(table).values(**_row(policy)))


def _policy(row: Row[Any]) -> Policy:
    return Policy(
        id=row.id,
        version=row.version,
        action_kind=row.action_kind,
        risk=Risk(row.risk) if row.risk else None,
        approvals_required=row.approvals_required,
        rejections_to_reject=row.rejections_to_reject,
        role_requirements=tuple(
            RoleRequirement(str(r["role"]), int(r["count"])) for r in row.role_requirements
        ),
        pending_ttl_s=row.pending_ttl_s,
        validity_s=row.validity_s,
        compliance_relevant=row.compliance_relevant,
        escalation_policy_id=row.escalation_policy_id,
        changed_by=row.changed_by,
        changed_at=row.changed_at,
        change_reason=row.change_reason,
    )


def _row(policy: Policy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "version": policy.version,
        "action_kind": policy.action_kind,
        "risk": policy.risk.value if policy.risk else "",
        "approvals_required": policy.approvals_required,
        "rejections_to_reject": policy.rejections_to_reject,
        "role_requirements": [{"role": r.role, "count": r.count} for r in policy.role_requirements],
        "pending_ttl_s": policy.pending_ttl_s,
        "validity_s": policy.validity_s,
        "compliance_relevant": policy.compliance_relevant,
        "escalation_policy_id": policy.escalation_policy_id,
        "changed_by": policy.changed_by,
        "changed_at": policy.changed_at,
        "change_reason": policy.change_reason,
    }
