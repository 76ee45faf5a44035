"""Escalation policies, versioned like approval policies: a change is version N+1, and an
action's timers carry the version they were planned under, so later edits never apply to it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, PermissionDenied
from runtime.outbox import person
from services.ops import events
from services.ops.refusals import audited
from services.ops.timer_tables import escalation_policies as table

CHANGED = "ops.escalation_policy.changed"
MAX_REPEAT = 100


@dataclass(frozen=True)
class Level:
    after_s: int
    notify: tuple[str, ...] = ()
    assign_to: str = ""
    assign_team: str = ""


@dataclass(frozen=True)
class EscalationPolicy:
    id: str
    levels: tuple[Level, ...] = field(default_factory=tuple)
    repeat_limit: int = 0
    remind_before_expiry_s: int = 0
    version: int = 0
    changed_by: str = ""
    changed_at: datetime | None = None

    @property
    def last_level(self) -> int:
        """The highest escalation_level an action can reach (the repeats included)."""
        return len(self.levels) + self.repeat_limit

    def level(self, number: int) -> Level:
        """Level `number` (1-based); numbers past the last level are its repeats."""
        return self.levels[min(number, len(self.levels)) - 1]


def validate(policy: EscalationPolicy) -> None:
    problems = [
        (not policy.id.strip(), "id is required"),
        (not policy.levels, "an escalation policy needs at least one level"),
        (any(lv.after_s <= 0 for lv in policy.levels), "every level's after_s must be positive"),
        (not 0 <= policy.repeat_limit <= MAX_REPEAT, f"repeat_limit must be 0..{MAX_REPEAT}"),
        (policy.remind_before_expiry_s < 0, "remind_before_expiry_s must not be negative"),
        (any(not n.strip() for lv in policy.levels for n in lv.notify), "empty notify name"),
    ]
    for failed, message in problems:
        if failed:
            raise InvalidArgument(message)


async def put_escalation_policy(
    db: Database, policy: EscalationPolicy, actor: Principal, now: datetime
) -> EscalationPolicy:
    """Stores `policy` as the next version of its id (its version field is ignored); admins
    only, and a refusal is audited."""
    target = f"escalation_policy/{policy.id}"
    async with audited(db, actor, CHANGED, policy.id, target=target):
        if "admin" not in actor.roles:
            raise PermissionDenied("only an admin can change an escalation policy")
        validate(policy)
        async with db.transaction() as session:
            return await _store(session, policy, actor, now)


async def _store(
    session: AsyncSession, policy: EscalationPolicy, actor: Principal, now: datetime
) -> EscalationPolicy:
    latest = select(func.coalesce(func.max(table.c.version), 0)).where(table.c.id == policy.id)
    version = (await session.execute(latest)).scalar_one() + 1
    stored = replace(policy, version=version, changed_by=actor.subject, changed_at=now)
    inserted = await session.execute(
        insert(table).values(**_row(stored)).on_conflict_do_nothing().returning(table.c.id)
    )
    if inserted.first() is None:
        raise Conflict(f"escalation policy {policy.id} changed concurrently; try again")
    payload = _row(stored) | {"changed_at": now.isoformat()}
    target = f"escalation_policy/{policy.id}"
    await events.record(session, person(actor), CHANGED, policy.id, payload, target=target)
    return stored


async def list_escalation_policies(db: Database) -> list[EscalationPolicy]:
    """The current (highest) version of every policy, by id."""
    query = select(table).distinct(table.c.id).order_by(table.c.id, table.c.version.desc())
    async with db.transaction() as session:
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


def _row(policy: EscalationPolicy) -> dict[str, Any]:
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
