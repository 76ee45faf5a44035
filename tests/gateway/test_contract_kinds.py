"""The document lists the incident kinds the agent takes as they stand: the active rule set's,
read when the document is fetched (at most every few seconds), so a version that adds a kind
shows in a later fetch; an agent that cannot answer leaves the last list, and one that never
answered a free string. Fetching the public document does not make a call on the agent each
time."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest

from gateway.contract import kinds as kinds_module
from services.agent.triage.domain.ruleset import BASELINE, parse_rule_set
from tests.gateway.conftest import Gateway
from tests.gateway.document import Schema, document_of
from tradeops.agent.v1 import agent_service_pb2 as pb

ASKING_FOR_A_KIND = (("NewIncident", "kind"), ("IncidentBody", "kind"))


def _enums(document: Schema) -> list[object]:
    schemas = document["components"]["schemas"]
    return [schemas[model]["properties"][field].get("enum") for model, field in ASKING_FOR_A_KIND]


async def test_the_document_lists_the_kinds_of_the_rule_set_in_force(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kinds_module, "REFRESH_S", 0.0)  # every fetch asks
    shipped = BASELINE.read_text()
    gateway.recorder.replies["GetRuleSet"] = pb.RuleSetVersion(version=1, document=shipped)
    kinds = list(parse_rule_set(shipped.encode()).kinds)

    assert _enums(await document_of(gateway)) == [kinds, kinds]
    call = gateway.recorder.only("GetRuleSet")
    assert call.request == pb.GetRuleSetRequest(version=0)  # the active one
    assert call.metadata["authorization"].startswith("Bearer ")

    document = json.loads(shipped)
    document["version"] = 2
    document["kinds"]["margin_call"] = {"description": "A clearer calls margin.", "metrics": []}
    newer = json.dumps(document)
    gateway.recorder.replies["GetRuleSet"] = pb.RuleSetVersion(version=2, document=newer)
    assert _enums(await document_of(gateway)) == [[*kinds, "margin_call"]] * 2

    gateway.recorder.failures["GetRuleSet"] = (grpc.StatusCode.UNAVAILABLE, "agent down")
    assert _enums(await document_of(gateway)) == [[*kinds, "margin_call"]] * 2


async def test_until_the_agent_answers_a_kind_is_a_free_string(gateway: Gateway) -> None:
    gateway.recorder.failures["GetRuleSet"] = (grpc.StatusCode.UNAVAILABLE, "agent down")

    document = await document_of(gateway)

    assert _enums(document) == [None, None]
    kind = document["components"]["schemas"]["NewIncident"]["properties"]["kind"]
    assert kind["type"] == "string"
    assert "active rule set" in kind["description"]


async def test_fetches_in_a_burst_ask_the_agent_once(gateway: Gateway) -> None:
    gateway.recorder.replies["GetRuleSet"] = pb.RuleSetVersion(
        version=1, document=BASELINE.read_text()
    )

    await asyncio.gather(*(document_of(gateway) for _ in range(10)))
    for _ in range(10):
        await document_of(gateway)

    assert len([call for call in gateway.recorder.calls if call.method == "GetRuleSet"]) == 1
