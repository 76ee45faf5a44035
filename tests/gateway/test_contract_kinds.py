"""The document lists the incident kinds the agent takes as they stand: the active rule set's,
read each time the document is fetched, so a version that adds a kind shows in the next fetch;
an agent that cannot answer leaves the last list, and one that never answered a free string."""

from __future__ import annotations

import json

import grpc

from services.agent.triage.domain.ruleset import BASELINE, parse_rule_set
from tests.gateway.conftest import Gateway
from tests.gateway.document import Schema, document_of
from tradeops.agent.v1 import agent_service_pb2 as pb

ASKING_FOR_A_KIND = (("NewIncident", "kind"), ("IncidentBody", "kind"))


def _enums(document: Schema) -> list[object]:
    schemas = document["components"]["schemas"]
    return [schemas[model]["properties"][field].get("enum") for model, field in ASKING_FOR_A_KIND]


async def test_the_document_lists_the_kinds_of_the_rule_set_in_force(gateway: Gateway) -> None:
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
