"""The incident kinds the active rule set declares, for intake and for the contexts that define
incidents ahead of time (probe templates, open_incident triggers).

Read in the caller's transaction from agent.rule_sets (one indexed row: the head version), so a
version an admin publishes is in force at once on every replica, with no restart. The version
itself comes from the rule books' parse cache (rulebook.parsed)."""

from __future__ import annotations

from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.triage.domain.kinds import Kinds
from services.agent.triage.domain.ruleset import BASELINE, parse_rule_set
from services.agent.triage.repository import rule_sets as rule_set_rows
from services.agent.triage.service.rulebook import parsed


async def active_kinds(session: AsyncSession) -> Kinds:
    """Kind name -> Kind, in the rule set's order. Until any version is stored, the shipped
    baseline's: it is what the first triage stores as version 1."""
    head = await rule_set_rows.head(session)
    if head is None:
        return _shipped()
    rules = await parsed(session, head[1])
    assert rules is not None  # head just named it, and versions are never deleted
    return rules.kinds


@cache
def _shipped() -> Kinds:
    return parse_rule_set(BASELINE.read_bytes()).kinds
