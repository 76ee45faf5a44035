"""The incident kinds the active rule set declares, for intake and for the contexts that define
incidents ahead of time (probe templates, open_incident triggers).

Read in the caller's transaction from agent.rule_sets (one indexed row: the head version), so a
version an admin publishes is in force at once on every replica, with no restart. The kinds of a
logic version are parsed once per process: a logic version names its document's exact bytes and
stored versions are never rewritten, so a cached entry cannot go stale."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.agent.triage.domain.kinds import Kinds
from services.agent.triage.domain.ruleset import BASELINE, parse_rule_set
from services.agent.triage.repository import rule_sets as rule_set_rows

_BY_LOGIC_VERSION: dict[str, Kinds] = {}
_KEPT = 32  # versions whose kinds are kept; past it the cache starts again (a few ms of parsing)
_SHIPPED = ""  # no logic version is empty: the key of the shipped file's kinds


async def active_kinds(session: AsyncSession) -> Kinds:
    """Kind name -> Kind, in the rule set's order. Until any version is stored, the shipped
    baseline's: it is what the first triage stores as version 1."""
    head = await rule_set_rows.head(session)
    if head is None:
        return _shipped()
    logic_version = head[1]
    if logic_version not in _BY_LOGIC_VERSION:
        stored = await rule_set_rows.by_logic_version(session, logic_version)
        assert stored is not None  # head just named it, and versions are never deleted
        rules = parse_rule_set(stored.document.encode("utf-8"))
        if len(_BY_LOGIC_VERSION) >= _KEPT:
            _BY_LOGIC_VERSION.clear()
        _BY_LOGIC_VERSION[logic_version] = rules.kinds
    return _BY_LOGIC_VERSION[logic_version]


def _shipped() -> Kinds:
    if _SHIPPED not in _BY_LOGIC_VERSION:
        _BY_LOGIC_VERSION[_SHIPPED] = parse_rule_set(BASELINE.read_bytes()).kinds
    return _BY_LOGIC_VERSION[_SHIPPED]
