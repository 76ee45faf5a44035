"""Rule rows: a `triggers` row per rule (name, current version) and a `trigger_versions` row
per version, never updated."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.workflows.domain.rules import DuplicateRule, Rule
from services.agent.workflows.tables import trigger_versions as versions
from services.agent.workflows.tables import triggers


def _query() -> Select[Any]:
    return select(versions, triggers.c.name, triggers.c.version.label("latest_version")).join(
        triggers, triggers.c.id == versions.c.trigger_id
    )


def _current() -> Select[Any]:
    return _query().where(versions.c.version == triggers.c.version)


def _rule(row: Any) -> Rule:
    return Rule(
        id=row.trigger_id,
        name=row.name,
        version=row.version,
        enabled=row.enabled,
        action=row.match_action,
        conditions={k: tuple(v) for k, v in row.conditions.items()},
        step=row.step_kind,
        parameters=row.step_parameters,
        max_attempts=row.max_attempts,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
        latest_version=row.latest_version,
    )


async def current(session: AsyncSession, rule_id: str, *, lock: bool = False) -> Rule | None:
    query = _current().where(triggers.c.id == rule_id)
    if lock:
        query = query.with_for_update(of=triggers)
    row = (await session.execute(query)).one_or_none()
    return _rule(row) if row else None


async def at_version(session: AsyncSession, rule_id: str, version: int) -> Rule | None:
    query = _query().where(versions.c.trigger_id == rule_id, versions.c.version == version)
    row = (await session.execute(query)).one_or_none()
    return _rule(row) if row else None


async def named(session: AsyncSession, name: str) -> Rule | None:
    row = (await session.execute(_current().where(triggers.c.name == name))).one_or_none()
    return _rule(row) if row else None


async def all_current(session: AsyncSession, *, enabled_only: bool = False) -> list[Rule]:
    query = _current().order_by(triggers.c.name)
    if enabled_only:
        query = query.where(versions.c.enabled)
    return [_rule(row) for row in await session.execute(query)]


async def add(session: AsyncSession, rule: Rule) -> None:
    """Writes `rule` as its rule's newest version (creating the rule at version 1); a rule of
    the same name created meanwhile by another transaction raises DuplicateRule."""
    if rule.version == 1:
        try:
            await session.execute(
                insert(triggers).values(
                    id=rule.id, name=rule.name, version=1, created_at=rule.created_at
                )
            )
        except IntegrityError as exc:
            raise DuplicateRule(rule.name) from exc
    else:
        await session.execute(
            update(triggers).where(triggers.c.id == rule.id).values(version=rule.version)
        )
    await session.execute(insert(versions).values(**_row(rule)))


def _row(rule: Rule) -> dict[str, Any]:
    return {
        "trigger_id": rule.id,
        "version": rule.version,
        "enabled": rule.enabled,
        "match_action": rule.action,
        "conditions": {k: list(v) for k, v in rule.conditions.items()},
        "step_kind": rule.step,
        "step_parameters": dict(rule.parameters),
        "max_attempts": rule.max_attempts,
        "reason": rule.reason,
        "created_by": rule.created_by,
        "created_at": rule.created_at,
    }
