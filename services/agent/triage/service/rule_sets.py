"""An admin puts a new rule set version: validated as the shipped file is, numbered one above
the active version (so two admins editing at once cannot overwrite each other), stored byte for
byte, audited ("agent.ruleset.updated"; a refusal "denied"). It is active from the next triage.
A version may declare new incident kinds but keeps every kind the active one declares.
"""

from __future__ import annotations

from runtime.auth import Principal
from runtime.errors import Conflict, InvalidArgument, NotFound
from runtime.outbox import person
from services.agent.triage.domain.kinds import Kinds
from services.agent.triage.domain.ruleset import (
    RuleSetError,
    StoredRuleSet,
    parse_rule_set,
    stored_version,
)
from services.agent.triage.repository import rule_sets as rule_set_rows
from services.agent.triage.repository.outbox import Event, record_events
from services.agent.triage.service.agent import Agent
from services.agent.triage.service.refusals import audited

MAX_DOCUMENT, MAX_REASON = 1_000_000, 2000


async def put_rule_set(
    agent: Agent, *, document: str, reason: str, caller: Principal
) -> StoredRuleSet:
    async with audited(agent.db, caller, "agent.ruleset.updated", "ruleset", {"reason": reason}):
        raw = document.encode("utf-8")
        if not reason.strip() or len(reason) > MAX_REASON:
            raise InvalidArgument(f"a reason of 1 to {MAX_REASON} characters is required")
        if len(raw) > MAX_DOCUMENT:
            raise InvalidArgument(f"the document is larger than {MAX_DOCUMENT} bytes")
        try:
            rules = parse_rule_set(raw)
        except RuleSetError as exc:
            raise InvalidArgument(f"rule set refused: {exc}") from None
        now = agent.clock()
        async with agent.db.transaction() as session:
            await rule_set_rows.lock_writers(session)
            active = await agent.book.active(session)
            if rules.version != active.version + 1:
                raise Conflict(
                    f"version must be {active.version + 1} (the active version is"
                    f" {active.version}), got {rules.version}"
                )
            _keeps_kinds(active.kinds, rules.kinds)
            stored = stored_version(rules, raw, reason.strip(), caller.subject, now)
            await rule_set_rows.add(session, stored)
            payload = {
                "version": stored.version,
                "logic_version": stored.logic_version,
                "sha256": stored.sha256,
                "previous_logic_version": active.logic_version,
                "reason": stored.reason,
            }
            event = Event(
                person(caller), "agent.ruleset.updated", f"ruleset/{stored.version}", payload
            )
            await record_events(session, [event], now)
        return stored


def _keeps_kinds(active: Kinds, new: Kinds) -> None:
    """Kinds are only ever added: probes, triggers, the compliance checks and desk systems
    report the kinds they were set up with, and a withdrawn kind would turn their next report
    into a refusal nobody asked for (a probe's run, a check's incident, lost)."""
    withdrawn = [name for name in active if name not in new]
    if withdrawn:
        raise InvalidArgument(
            f"rule set refused: it withdraws kinds the active version declares"
            f" ({', '.join(withdrawn)}); a version may add kinds, never remove them"
        )


async def get_rule_set(agent: Agent, *, version: int) -> tuple[StoredRuleSet, int]:
    """The version asked for (0: the active one) and the active version number."""
    async with agent.db.transaction() as session:
        active = (await agent.book.active(session)).version
        stored = await rule_set_rows.get(session, version or active)
    if stored is None:
        raise NotFound(f"no rule set version {version}")
    return stored, active


async def list_rule_sets(agent: Agent) -> list[StoredRuleSet]:
    async with agent.db.transaction() as session:
        await agent.book.active(session)
        return await rule_set_rows.list_all(session)
