"""POST /exports takes the evidence_pack kind with its action_id, as the export contract does."""

from __future__ import annotations

from google.protobuf.struct_pb2 import Struct

from tests.gateway.conftest import Gateway, assert_forwarded
from tradeops.export.v1 import export_service_pb2 as pb

ACTION_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a0aa"


async def test_compliance_requests_the_evidence_pack_of_an_action(gateway: Gateway) -> None:
    gateway.recorder.replies["CreateExport"] = pb.Export(
        id="0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a003", kind="evidence_pack"
    )
    headers = gateway.auth("compliance")
    body = {"kind": "evidence_pack", "client_key": "kill-1", "parameters": {"action_id": ACTION_ID}}

    response = await gateway.client.post("/exports", json=body, headers=headers)

    parameters = Struct()
    parameters.update({"action_id": ACTION_ID})
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "evidence_pack"
    assert assert_forwarded(gateway, "CreateExport", headers) == pb.CreateExportRequest(
        kind="evidence_pack", format="jsonl", client_key="kill-1", parameters=parameters
    )
