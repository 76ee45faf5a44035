"""gateway.rest_json and gateway.rest_schema on every message of every contract: what the
converter writes is what the schema promises, enum names lose exactly their shared prefix, and
the numbers a Struct carries keep their JSON type."""

from __future__ import annotations

import math
from typing import Any

import pytest
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct

from gateway.rest_json import names_of, number_of, prefix_of, to_rest
from gateway.rest_schema import REF, add_components
from tests.runtime.test_proto_json import _messages
from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.agent.v1 import trigger_service_pb2 as trigger_pb
from tradeops.export.v1 import export_service_pb2 as export_pb
from tradeops.ops.v1 import ops_service_pb2 as ops_pb


def _schema_of(message: type[Message]) -> dict[str, Any]:
    name = message.DESCRIPTOR.full_name.removeprefix("tradeops.")
    document = add_components({"paths": {"/x": {"$ref": REF + name}}})
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


@pytest.mark.parametrize("message", _messages(), ids=lambda m: m.DESCRIPTOR.full_name)
def test_an_empty_message_writes_exactly_the_fields_its_schema_requires(
    message: type[Message],
) -> None:
    schema = _schema_of(message)

    assert set(to_rest(message())) == set(schema.get("required", []))
    assert set(schema.get("required", [])) <= set(schema["properties"])


def test_enum_names_lose_exactly_their_shared_prefix() -> None:
    assert prefix_of(ops_pb.ActionState.DESCRIPTOR) == "ACTION_STATE_"
    assert names_of(ops_pb.Risk.DESCRIPTOR) == {
        0: "UNSPECIFIED",
        1: "LOW",
        2: "MEDIUM",
        3: "HIGH",
        4: "CRITICAL",
    }
    assert names_of(trigger_pb.FiringState.DESCRIPTOR)[2] == "DONE"
    assert number_of(export_pb.ExportState, "VERIFIED") == export_pb.EXPORT_STATE_VERIFIED
    with pytest.raises(ValueError, match="HIGH"):
        number_of(ops_pb.ActionState, "HIGH")


def test_a_number_the_contract_does_not_know_stays_a_number() -> None:
    action = ops_pb.Action(state=ops_pb.ActionState.ValueType(97))  # from a newer ops service

    assert to_rest(action)["state"] == 97


def test_64_bit_integers_are_json_integers_in_fields_and_maps() -> None:
    metrics = agent_pb.TriageMetrics(decisions=2**63 - 1, by_severity={"P1": 3})

    body = to_rest(metrics)

    assert body["decisions"] == 2**63 - 1
    assert body["by_severity"] == {"P1": 3}


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        (518, 518),
        (518.0, 518),  # JSON does not tell them apart; a Struct keeps neither
        (-0.0, 0),
        (0.5, 0.5),
        (2**53, 2**53),
        (2.0**60, 2.0**60),  # past 2**53 a double is no longer every integer: left as it is
        (1e300, 1e300),
        (True, True),
        ("518", "518"),
        (None, None),
        ([1, [2.0, {"x": 3}]], [1, [2, {"x": 3}]]),
    ],
)
def test_struct_numbers_keep_their_json_type(sent: Any, read: Any) -> None:
    parameters = Struct()
    parameters.update({"value": sent})

    value = to_rest(ops_pb.Action(parameters=parameters))["parameters"]["value"]

    assert value == read
    assert type(value) is type(read)


def test_a_struct_holding_no_json_number_is_refused_not_written() -> None:
    parameters = Struct()
    parameters.update({"value": math.inf})

    with pytest.raises(ValueError, match="finite"):
        to_rest(ops_pb.Action(parameters=parameters))
