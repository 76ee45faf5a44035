"""What a REST client sees, byte for byte: enum names without the contract's prefixes, 64-bit
counts, sizes and sequence numbers as JSON integers, parameters back as they were sent, enum
names asked for the same way (and anything else refused with the names allowed), and the
OpenAPI document listing those names."""

from __future__ import annotations

import json
import re
from typing import Any, get_args

import pytest
from google.protobuf.struct_pb2 import Struct

from gateway.bodies import actions, exports
from gateway.rest_json import names_of
from tests.gateway.conftest import Gateway
from tradeops.export.v1 import export_service_pb2 as export_pb
from tradeops.ops.v1 import ops_service_pb2 as pb

ACTION_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a002"
ACTION = f"/agent/ops/actions/{ACTION_ID}"
EXPORT_ID = "6f1c2a8e-0d7b-4f51-9a43-2b8f5c0e7d11"


def _struct(value: dict[str, Any]) -> Struct:
    struct = Struct()
    struct.update(value)
    return struct


async def test_an_action_reads_as_rest(gateway: Gateway) -> None:
    gateway.recorder.replies["GetAction"] = pb.Action(
        id=ACTION_ID,
        state=pb.ACTION_STATE_PENDING_APPROVAL,
        risk=pb.RISK_HIGH,
        parameters=_struct({"feed": "XNAS-ITCH", "to_seq": 518, "ratio": 0.5}),
    )

    response = await gateway.client.get(
        f"/agent/ops/actions/{ACTION_ID}", headers=gateway.auth("viewer")
    )

    text = response.text
    assert '"state":"PENDING_APPROVAL"' in text
    assert '"risk":"HIGH"' in text
    assert re.search(r'"to_seq":518[,}]', text)  # an integer, not 518.0
    assert '"ratio":0.5' in text


async def test_an_export_has_integer_sizes_counts_and_seqs(gateway: Gateway) -> None:
    gateway.recorder.replies["GetExport"] = export_pb.Export(
        id=EXPORT_ID,
        state=export_pb.EXPORT_STATE_SIGNED,
        from_seq=0,
        to_seq=518,
        size_bytes=431881,
        record_count=519,
        files=[export_pb.ExportFile(name="records.jsonl", size_bytes=431881, record_count=519)],
        parameters=_struct({"from_seq": 0, "to_seq": 518}),
    )

    body = json.loads(
        (await gateway.client.get(f"/exports/{EXPORT_ID}", headers=gateway.auth("viewer"))).text
    )

    assert body["state"] == "SIGNED"
    assert (body["from_seq"], body["to_seq"], body["size_bytes"]) == (0, 518, 431881)
    assert body["files"][0]["size_bytes"] == 431881
    assert body["files"][0]["record_count"] == 519
    assert body["parameters"] == {"from_seq": 0, "to_seq": 518}
    assert all(type(n) is int for n in (body["size_bytes"], body["parameters"]["to_seq"]))


async def test_parameters_come_back_as_they_were_sent(gateway: Gateway) -> None:
    sent = {"to_seq": 518, "ratio": 0.25, "big": 2**53, "nested": {"n": [1, 2.5, -3]}}
    headers = gateway.auth("ops")

    await gateway.client.put(
        f"/agent/ops/actions/{ACTION_ID}/parameters",
        json={"parameters": sent, "reason": "a new sequence number"},
        headers=headers,
    )
    stored = gateway.recorder.only("UpdateParameters").request.parameters
    gateway.recorder.replies["GetAction"] = pb.Action(id=ACTION_ID, parameters=stored)
    read = await gateway.client.get(f"/agent/ops/actions/{ACTION_ID}", headers=headers)

    assert read.json()["parameters"] == sent
    assert re.search(r'"to_seq":518[,}]', read.text)
    assert '"n":[1,2.5,-3]' in read.text


@pytest.mark.parametrize(
    ("url", "sent", "field", "number"),
    [
        (
            "/agent/ops/actions?state=PENDING_APPROVAL",
            None,
            "state",
            pb.ACTION_STATE_PENDING_APPROVAL,
        ),
        ("/agent/ops/actions?risk=HIGH", None, "risk", pb.RISK_HIGH),
        (f"{ACTION}/execution/result", {"outcome": "FAILED"}, "outcome", pb.ACTION_STATE_FAILED),
        ("/exports?state=SIGNED", None, "state", export_pb.EXPORT_STATE_SIGNED),
    ],
)
async def test_enum_names_are_asked_for_as_replies_spell_them(
    gateway: Gateway, url: str, sent: Any, field: str, number: int
) -> None:
    method = "POST" if sent else "GET"

    response = await gateway.client.request(method, url, json=sent, headers=gateway.auth("admin"))

    assert response.status_code == 200, response.text
    (call,) = gateway.recorder.calls
    assert getattr(call.request, field) == number


@pytest.mark.parametrize(
    ("url", "sent", "field"),
    [
        ("/agent/ops/actions?state=ACTION_STATE_PENDING_APPROVAL", None, "query.state"),
        ("/agent/ops/actions?state=pending_approval", None, "query.state"),
        ("/agent/ops/actions?risk=SEVERE", None, "query.risk"),
        (f"{ACTION}/execution/result", {"outcome": "DONE"}, "body.outcome"),
    ],
)
async def test_an_unknown_enum_name_is_422_listing_the_names_allowed(
    gateway: Gateway, url: str, sent: Any, field: str
) -> None:
    method = "POST" if sent else "GET"

    response = await gateway.client.request(method, url, json=sent, headers=gateway.auth("admin"))

    assert response.status_code == 422
    error = response.json()["error"]
    problem = {f["field"]: f["problem"] for f in error["fields"]}[field]
    allowed = "'PENDING_APPROVAL', 'APPROVED'" if "state" in field else "'"
    assert problem.startswith("Input should be "), problem
    assert allowed in problem, problem
    assert gateway.recorder.calls == []


async def test_the_openapi_document_lists_the_enum_names(gateway: Gateway) -> None:
    document = (await gateway.client.get("/openapi.json")).json()

    schemas = document["components"]["schemas"]
    assert schemas["ops.v1.ActionState"]["enum"] == list(
        names_of(pb.ActionState.DESCRIPTOR).values()
    )
    assert schemas["ops.v1.Risk"] == {
        "type": "string",
        "enum": ["UNSPECIFIED", "LOW", "MEDIUM", "HIGH", "CRITICAL"],
    }
    action = schemas["ops.v1.Action"]["properties"]
    assert action["state"] == {"$ref": "#/components/schemas/ops.v1.ActionState"}
    assert schemas["export.v1.Export"]["properties"]["size_bytes"]["type"] == "integer"
    listing = document["paths"]["/agent/ops/actions"]["get"]
    ok = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/ops.v1.ListActionsResponse"}
    risk = next(p for p in listing["parameters"] if p["name"] == "risk")
    assert risk["schema"]["anyOf"][0]["enum"] == ["LOW", "MEDIUM", "HIGH", "CRITICAL"]


def test_the_names_requests_take_are_the_contracts_own() -> None:
    def named(enum: Any) -> tuple[str, ...]:
        return tuple(n for n in names_of(enum.DESCRIPTOR).values() if n != "UNSPECIFIED")

    assert get_args(actions.State) == named(pb.ActionState)
    assert get_args(actions.Risk) == named(pb.Risk)
    assert get_args(actions.Order) == named(pb.ActionOrder)
    assert get_args(exports.State) == named(export_pb.ExportState)
