"""Replaying a decision: its stored input snapshot through the rule set version that made it.
The same input and the same logic must give the same output; the result says whether they did,
and the replay itself is audited ("agent.triage.replayed", outcome "failure" when not)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from runtime.auth import Principal
from runtime.canonical import canonical_json, sha256_hex
from runtime.errors import NotFound
from runtime.outbox import person
from services.agent.triage.domain.decisions import Decision
from services.agent.triage.domain.triage import triage
from services.agent.triage.repository import decisions as decision_rows
from services.agent.triage.repository.outbox import Event, record_events
from services.agent.triage.service.agent import Agent


@dataclass(frozen=True)
class Replay:
    decision_id: str
    identical: bool
    input_intact: bool
    logic_version: str
    stored_output_sha256: str
    replayed: Decision

    @property
    def replayed_output_sha256(self) -> str:
        return self.replayed.outcome.output_sha256


async def replay_decision(agent: Agent, *, decision_id: str, caller: Principal) -> Replay:
    now = agent.clock()
    async with agent.db.transaction() as session:
        stored = await decision_rows.get_decision(session, decision_id)
        if stored is None:
            raise NotFound(f"no triage decision {decision_id!r}")
        rules = await agent.book.by_logic_version(session, stored.logic_version)
        if rules is None:
            raise NotFound(f"logic version {stored.logic_version!r} is not kept; cannot replay")
        outcome = triage(stored.input_snapshot, rules, agent.timer)
        result = Replay(
            decision_id=stored.id,
            identical=outcome.output_sha256 == stored.outcome.output_sha256,
            input_intact=sha256_hex(canonical_json(stored.input_snapshot))
            == stored.outcome.input_sha256,
            logic_version=stored.logic_version,
            stored_output_sha256=stored.outcome.output_sha256,
            replayed=replace(stored, outcome=outcome, action_id=None),
        )
        await record_events(session, [_event(result, caller)], now)
    return result


def _event(result: Replay, caller: Principal) -> Event:
    payload = {
        "identical": result.identical,
        "input_intact": result.input_intact,
        "logic_version": result.logic_version,
        "stored_output_sha256": result.stored_output_sha256,
        "replayed_output_sha256": result.replayed_output_sha256,
    }
    outcome = "success" if result.identical and result.input_intact else "failure"
    target = f"decision/{result.decision_id}"
    return Event(person(caller), "agent.triage.replayed", target, payload, outcome)
