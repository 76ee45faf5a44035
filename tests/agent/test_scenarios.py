"""The scenario library: every realistic desk incident gets the category and severity the desk
expects, alone and all together through TriageBatch over gRPC, and each decision replays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from runtime.clients import bearer
from services.agent.triage.domain.decisions import snapshot
from services.agent.triage.domain.incidents import NewIncident, normalise
from services.agent.triage.domain.ruleset import load_rule_set
from services.agent.triage.domain.triage import triage
from tests.agent.fakes import NOW
from tests.agent.scenarios import scenarios
from tests.agent.served import Agent, agent
from tradeops.agent.v1 import agent_service_pb2 as pb

__all__ = ["agent"]
RULES = load_rule_set()
LIBRARY = scenarios()


def new_incident(report: dict[str, Any]) -> NewIncident:
    return normalise(NewIncident(**report, observed_at=NOW))


def test_the_library_holds_at_least_thirty_distinct_incidents() -> None:
    assert len(LIBRARY) >= 30
    assert len({s["name"] for s in LIBRARY}) == len(LIBRARY)
    assert {s["report"]["kind"] for s in LIBRARY} >= set(RULES.by_kind)


@pytest.mark.parametrize("scenario", LIBRARY, ids=[s["name"] for s in LIBRARY])
def test_each_desk_incident_gets_its_expected_category_and_severity(
    scenario: dict[str, Any],
) -> None:
    outcome = triage(snapshot(new_incident(scenario["report"])), RULES)
    expected = scenario["expected"]
    assert (outcome.category, outcome.severity) == (expected["category"], expected["severity"])


async def test_the_whole_library_triaged_in_one_batch_matches_and_replays(
    agent: Agent, token_for: Callable[..., str]
) -> None:
    desk = bearer(token_for("svc:desk-gateway", "service"))
    request = pb.TriageBatchRequest(
        incidents=[pb.CreateIncidentRequest(**s["report"]) for s in LIBRARY]
    )
    reply = await agent.stub.TriageBatch(request, metadata=desk, timeout=10)
    got = [(i.decision.category, i.decision.severity) for i in reply.items]
    assert got == [(s["expected"]["category"], s["expected"]["severity"]) for s in LIBRARY]
    viewer = bearer(token_for("vera", "viewer"))
    for item in reply.items:
        replayed = await agent.stub.ReplayDecision(
            pb.ReplayDecisionRequest(decision_id=item.decision.id), metadata=viewer, timeout=5
        )
        assert (replayed.identical, replayed.input_intact) == (True, True)
        assert replayed.replayed_output_sha256 == item.decision.output_sha256
