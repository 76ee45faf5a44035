"""The rule sets a process decides with: the active version and any kept version a replay asks
for, read from agent.rule_sets and parsed once per process.

The shipped file (services/agent/triage/rules/baseline.json) is stored the first time a rule set is
needed and the table is empty, as its own version (1). After that the table is the truth: a
newer shipped file does not replace versions an admin put; it is stored only on an empty table.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.outbox import automation
from services.agent.triage.domain.decisions import RuleSet
from services.agent.triage.domain.ruleset import BASELINE, parse_rule_set, stored_version
from services.agent.triage.repository import outbox
from services.agent.triage.repository import rule_sets as rule_set_rows

Clock = Callable[[], datetime]
SEEDED_BY = "agent"
# Parsed versions, by logic version, for the whole process (the rule books and the kinds intake
# checks share them). A logic version names its document's exact bytes and stored versions are
# never rewritten, so an entry cannot go stale; past this many the cache starts again.
_KEPT = 32
_PARSED: dict[str, RuleSet] = {}


async def parsed(session: AsyncSession, logic_version: str) -> RuleSet | None:
    """The stored version of that logic version, parsed once per process; None if absent."""
    if logic_version not in _PARSED:
        stored = await rule_set_rows.by_logic_version(session, logic_version)
        if stored is None:
            return None
        if len(_PARSED) >= _KEPT:
            _PARSED.clear()
        _PARSED[logic_version] = parse_rule_set(stored.document.encode("utf-8"))
    return _PARSED[logic_version]


class RuleBook:
    def __init__(self, shipped: bytes, clock: Clock) -> None:
        self._shipped, self._clock = shipped, clock

    @classmethod
    def shipped(cls, clock: Clock) -> RuleBook:
        return cls(BASELINE.read_bytes(), clock)

    async def active(self, session: AsyncSession) -> RuleSet:
        current = await rule_set_rows.head(session)
        if current is None:
            await self._seed(session)
            current = await rule_set_rows.head(session)
            assert current is not None
        found = await self.by_logic_version(session, current[1])
        assert found is not None
        return found

    async def by_logic_version(self, session: AsyncSession, logic_version: str) -> RuleSet | None:
        return await parsed(session, logic_version)

    async def _seed(self, session: AsyncSession) -> None:
        rules = parse_rule_set(self._shipped)
        stored = stored_version(
            rules, self._shipped, "shipped with the service", SEEDED_BY, self._clock()
        )
        if await rule_set_rows.add_if_absent(session, stored):
            await outbox.record(
                session,
                automation(f"agent-triage/{rules.name}", rules.logic_version),
                "agent.ruleset.seeded",
                f"ruleset/{rules.version}",
                {"logic_version": rules.logic_version, "sha256": rules.sha256},
            )
