"""Rows of agent.rule_sets: every rule set version, kept byte for byte."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.triage.domain.ruleset import StoredRuleSet
from services.agent.triage.tables import rule_sets

# One writer of rule set versions at a time, whichever replica serves the call.
_WRITER_LOCK = text("SELECT pg_advisory_xact_lock(7301202611)")


async def lock_writers(session: AsyncSession) -> None:
    """Held until commit: a second admin putting a version waits, then sees the first's."""
    await session.execute(_WRITER_LOCK)


async def head(session: AsyncSession) -> tuple[int, str] | None:
    """(version, logic_version) of the active (highest) version, if any is stored."""
    query = select(rule_sets.c.version, rule_sets.c.logic_version)
    row = (await session.execute(query.order_by(rule_sets.c.version.desc()).limit(1))).first()
    return None if row is None else (row.version, row.logic_version)


async def get(session: AsyncSession, version: int) -> StoredRuleSet | None:
    query = select(rule_sets).where(rule_sets.c.version == version)
    row = (await session.execute(query)).first()
    return None if row is None else StoredRuleSet(**row._asdict())


async def by_logic_version(session: AsyncSession, logic_version: str) -> StoredRuleSet | None:
    query = select(rule_sets).where(rule_sets.c.logic_version == logic_version)
    row = (await session.execute(query)).first()
    return None if row is None else StoredRuleSet(**row._asdict())


async def add(session: AsyncSession, stored: StoredRuleSet) -> None:
    await session.execute(insert(rule_sets).values(**asdict(stored)))


async def add_if_absent(session: AsyncSession, stored: StoredRuleSet) -> bool:
    """False when that version exists already (another replica seeded it first)."""
    statement = pg_insert(rule_sets).values(**asdict(stored)).on_conflict_do_nothing()
    result = await session.execute(statement.returning(rule_sets.c.version))
    return result.first() is not None


async def list_all(session: AsyncSession) -> list[StoredRuleSet]:
    query = select(rule_sets).order_by(rule_sets.c.version.desc())
    return [StoredRuleSet(**row._asdict()) for row in await session.execute(query)]
