"""TriageBatch: many reports taken in and triaged in one transaction, for desk systems and bulk
loads. Decisions with a recommendation are stored with their proposal pending; the
proposal_retry worker delivers them to ops (ProposeAction is idempotent on the decision), so a
batch never waits on ops and ops being down loses nothing."""

from __future__ import annotations

from collections.abc import Sequence

from runtime.auth import Principal
from runtime.errors import InvalidArgument
from services.agent.triage.domain.decisions import Decision
from services.agent.triage.domain.incidents import Incident, NewIncident
from services.agent.triage.repository import decisions as decision_rows
from services.agent.triage.repository.outbox import record_events
from services.agent.triage.service.agent import Agent
from services.agent.triage.service.incidents import accept
from services.agent.triage.service.intake import take_in
from services.agent.triage.service.triage import decide, decided_event

MAX_BATCH = 1000
Item = tuple[Incident, Decision | None]


async def triage_batch(
    agent: Agent, *, reports: Sequence[NewIncident], caller: Principal
) -> list[Item]:
    """One item per report, in order; a report folded onto an open incident gets no decision."""
    if not 0 < len(reports) <= MAX_BATCH:
        raise InvalidArgument(f"a batch holds 1 to {MAX_BATCH} incidents, got {len(reports)}")
    now = agent.clock()
    async with agent.db.transaction() as session:
        rules = await agent.book.active(session)
        accepted = accept(reports, now, rules.kinds)  # the rule set triaging them names the kinds
        incidents, events = await take_in(
            session, accepted, caller=caller, now=now, windows=agent.windows
        )
        items: list[Item] = [
            (
                incident,
                None
                if incident.deduplicated
                else decide(incident, rules, caller.subject, now, agent.timer),
            )
            for incident in incidents
        ]
        decisions = [decision for _, decision in items if decision is not None]
        await decision_rows.add_decisions(session, decisions)
        await record_events(session, [*events, *map(decided_event, decisions)], now)
    return items
