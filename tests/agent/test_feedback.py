"""People agree with or override decisions; every verdict is attributed and audited, and the
metrics count decisions and override rates per logic version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from runtime.auth import Principal
from runtime.errors import InvalidArgument, NotFound
from services.agent.tables import outbox
from services.agent.triage.domain.decisions import Decision
from services.agent.triage.domain.feedback import Verdict
from services.agent.triage.domain.incidents import NewIncident
from services.agent.triage.service import incidents as service
from services.agent.triage.service.agent import Agent
from services.agent.triage.service.feedback import record_feedback, triage_metrics
from services.agent.triage.service.triage import triage_incident
from tests.agent.fakes import NOW, make_agent

Principals = Callable[..., Principal]


@pytest.fixture
def agent(agent_db: Any) -> Agent:
    return make_agent(agent_db)


async def decided(agent: Agent, principal_for: Principals, kind: str, **metrics: float) -> Decision:
    caller = principal_for("alice", "trader")
    new = NewIncident("desk", kind, "eq-cash", f"{kind}-subject", "", metrics, NOW)
    incident = await service.create_incident(agent.db, new=new, caller=caller, clock=agent.clock)
    return await triage_incident(agent, incident_id=incident.id, caller=caller)


async def audit(agent: Agent) -> list[dict[str, Any]]:
    async with agent.db.transaction() as session:
        rows = await session.execute(select(outbox.c.event).order_by(outbox.c.id))
        return [
            r.event
            for r in rows
            if r.event["action"].startswith("agent.triage.")
            and r.event["action"] != "agent.triage.decided"
        ]


async def test_an_override_is_attributed_and_audited_with_its_reason(
    agent: Agent, principal_for: Principals
) -> None:
    decision = await decided(agent, principal_for, "pnl_break", abs_diff=250000)
    verdict = Verdict("override", "P1", "", "quarter-end: any break above 200k blocks sign-off")
    item = await record_feedback(
        agent, decision_id=decision.id, verdict=verdict, caller=principal_for("bob", "ops")
    )
    assert (item.created_by, item.logic_version, item.corrected_severity) == (
        "bob",
        decision.logic_version,
        "P1",
    )
    [event] = await audit(agent)
    assert (event["action"], event["actor"]["subject"], event["target"]) == (
        "agent.triage.overridden",
        "bob",
        f"decision/{decision.id}",
    )
    assert '"reason":"quarter-end: any break above 200k blocks sign-off"' in event["payload_json"]
    assert '"severity":"P2"' in event["payload_json"]


async def test_an_agreement_is_audited_as_a_confirmation(
    agent: Agent, principal_for: Principals
) -> None:
    decision = await decided(agent, principal_for, "fix_session_down")
    await record_feedback(
        agent,
        decision_id=decision.id,
        verdict=Verdict("agree"),
        caller=principal_for("c", "trader"),
    )
    [event] = await audit(agent)
    assert (event["action"], event["outcome"]) == ("agent.triage.confirmed", "success")


@pytest.mark.parametrize(
    ("verdict", "message"),
    [
        (Verdict("override", "P1", "", ""), "an override needs a reason"),
        (Verdict("override", "P2", "", "same as before"), "must correct the severity or"),
        (Verdict("override", "P0", "", "typo"), "corrected_severity must be one of"),
        (Verdict("agree", "P1", "", ""), "an agreement carries no corrected"),
        (Verdict("meh"), "verdict must be 'agree' or 'override'"),
    ],
)
async def test_an_incoherent_verdict_is_refused_and_the_refusal_audited(
    agent: Agent, principal_for: Principals, verdict: Verdict, message: str
) -> None:
    decision = await decided(agent, principal_for, "pnl_break", abs_diff=250000)
    with pytest.raises(InvalidArgument, match=message):
        await record_feedback(
            agent, decision_id=decision.id, verdict=verdict, caller=principal_for("bob", "ops")
        )
    [event] = await audit(agent)
    assert (event["outcome"], event["actor"]["subject"]) == ("denied", "bob")


async def test_feedback_on_an_unknown_decision_is_not_found(
    agent: Agent, principal_for: Principals
) -> None:
    with pytest.raises(NotFound):
        await record_feedback(
            agent,
            decision_id="00000000-0000-4000-8000-000000000000",
            verdict=Verdict("agree"),
            caller=principal_for("bob", "ops"),
        )


async def test_the_metrics_count_decisions_and_the_override_rate_per_logic_version(
    agent: Agent, principal_for: Principals
) -> None:
    pnl = await decided(agent, principal_for, "pnl_break", abs_diff=250000)
    fix = await decided(agent, principal_for, "fix_session_down")
    await decided(agent, principal_for, "recon_break", breaks=3)
    bob = principal_for("bob", "ops")
    override = Verdict("override", "", "connectivity", "a break from a dropped feed")
    await record_feedback(agent, decision_id=pnl.id, verdict=override, caller=bob)
    await record_feedback(agent, decision_id=fix.id, verdict=Verdict("agree"), caller=bob)
    metrics = await triage_metrics(agent, since=None, until=None)
    assert metrics.decisions == 3
    assert metrics.by_severity == {"P1": 1, "P2": 1, "P3": 1}
    assert metrics.by_category == {"reconciliation": 2, "connectivity": 1}
    [version] = metrics.by_logic_version
    assert (version.logic_version, version.decisions, version.feedback) == (pnl.logic_version, 3, 2)
    assert (version.agreements, version.overrides, version.override_rate) == (1, 1, 0.5)
    assert (await triage_metrics(agent, since=NOW.replace(year=2030), until=None)).decisions == 0
