from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from tests.gateway.conftest import Gateway, assert_forwarded
from tradeops.audit.v1 import audit_service_pb2 as pb

MAX_INT64 = 2**63 - 1
# A signed note as the audit service signs it: non-ASCII, a blank line, a trailing newline.
NOTE = (
    "tradeops.example/audit\n"
    "42\n"
    "qSWV9bnmzrXvNXuAWTa0hMBnBi4fYx2zgQ0kbD0SP/s=\n"
    "\n"
    "— tradeops.example/audit Az3grlj0Bs2zOWRvVDHjUQsNcJzGmtT1v6kWqUdJ3rFvD8Q=\n"
)
CHECKPOINT = pb.SignedCheckpoint(
    tree_size=42, root_hash="a9" * 32, key_id="033de0ae", note=NOTE, origin="tradeops.example/audit"
)
REASON = {"reason": "erasure request #1234"}


def stamp(moment: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(moment)
    return result


async def test_audit_records_are_filtered_by_time_actor_action_and_outcome(
    gateway: Gateway,
) -> None:
    headers = gateway.auth("viewer")

    response = await gateway.client.get(
        "/audit/records",
        headers=headers,
        params={
            "after_seq": "9",
            "limit": "10",
            "target": "action/1",
            "since": "2026-03-01T09:30:00+01:00",  # httpx encodes the + as %2B
            "until": "2026-03-02T00:00:00Z",
            "actor": "carol",
            "action": "ops.action.approved",
            "outcome": "denied",
        },
    )

    assert response.status_code == 200
    assert assert_forwarded(gateway, "ListRecords", headers) == pb.ListRecordsRequest(
        after_seq=9,
        limit=10,
        target="action/1",
        since=stamp(datetime(2026, 3, 1, 8, 30, tzinfo=UTC)),
        until=stamp(datetime(2026, 3, 2, tzinfo=UTC)),
        actor="carol",
        action="ops.action.approved",
        outcome="denied",
    )


async def test_an_inclusion_proof_is_against_the_latest_checkpoint_unless_a_size_is_given(
    gateway: Gateway,
) -> None:
    gateway.recorder.replies["GetInclusionProof"] = pb.InclusionProof(
        seq=3, tree_size=42, leaf_hash="ab" * 32, proof=["cd" * 32, "ef" * 32], root_hash="a9" * 32
    )
    headers = gateway.auth("viewer")

    latest = await gateway.client.get("/audit/proofs/inclusion?seq=3", headers=headers)

    assert latest.json()["proof"] == ["cd" * 32, "ef" * 32]
    assert latest.json()["tree_size"] == 42
    request = assert_forwarded(gateway, "GetInclusionProof", headers)
    assert request == pb.InclusionProofRequest(seq=3, tree_size=0)
    gateway.recorder.calls.clear()
    sized = await gateway.client.get("/audit/proofs/inclusion?seq=3&tree_size=8", headers=headers)
    assert sized.status_code == 200
    request = assert_forwarded(gateway, "GetInclusionProof", headers)
    assert request == pb.InclusionProofRequest(seq=3, tree_size=8)


async def test_a_consistency_proof_is_forwarded_with_both_sizes(gateway: Gateway) -> None:
    gateway.recorder.replies["GetConsistencyProof"] = pb.ConsistencyProof(
        first_size=5, second_size=42, proof=["cd" * 32]
    )
    headers = gateway.auth("trader")

    response = await gateway.client.get(
        "/audit/proofs/consistency?first_size=5&second_size=42", headers=headers
    )

    assert response.json()["proof"] == ["cd" * 32]
    request = assert_forwarded(gateway, "GetConsistencyProof", headers)
    assert request == pb.ConsistencyProofRequest(first_size=5, second_size=42)


@pytest.mark.parametrize(("path", "tree_size"), [("latest", 0), (str(MAX_INT64), MAX_INT64)])
async def test_a_checkpoint_is_read_as_the_latest_or_at_a_size(
    gateway: Gateway, path: str, tree_size: int
) -> None:
    gateway.recorder.replies["GetCheckpoint"] = CHECKPOINT
    headers = gateway.auth("viewer")

    response = await gateway.client.get(f"/audit/checkpoints/{path}", headers=headers)

    assert response.json()["note"] == NOTE
    assert response.json()["key_id"] == "033de0ae"
    request = assert_forwarded(gateway, "GetCheckpoint", headers)
    assert request == pb.GetCheckpointRequest(tree_size=tree_size)


async def test_the_latest_signed_note_is_served_as_plain_text_byte_for_byte(
    gateway: Gateway,
) -> None:
    gateway.recorder.replies["GetCheckpoint"] = CHECKPOINT
    headers = gateway.auth("viewer")

    response = await gateway.client.get("/audit/checkpoints/latest.txt", headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == NOTE.encode()
    request = assert_forwarded(gateway, "GetCheckpoint", headers)
    assert request == pb.GetCheckpointRequest(tree_size=0)


async def test_anyone_lists_the_checkpoint_keys(gateway: Gateway) -> None:
    key = pb.PublicKey(name="tradeops.example/audit", key_id="033de0ae", vkey="v", until_size=-1)
    gateway.recorder.replies["ListPublicKeys"] = pb.ListPublicKeysResponse(
        keys=[key], origin="tradeops.example/audit"
    )
    headers = gateway.auth("viewer")

    response = await gateway.client.get("/audit/keys", headers=headers)

    assert response.json()["keys"][0]["until_size"] == -1
    assert response.json()["origin"] == "tradeops.example/audit"
    assert assert_forwarded(gateway, "ListPublicKeys", headers) == pb.ListPublicKeysRequest()


async def test_compliance_redacts_a_payload_with_a_reason(gateway: Gateway) -> None:
    gateway.recorder.replies["RedactPayload"] = pb.AuditRecord(seq=12, payload_sha256="0f" * 32)
    headers = gateway.auth("compliance", subject="carol")

    response = await gateway.client.post("/audit/records/12/redact", json=REASON, headers=headers)

    assert response.status_code == 200
    assert response.json()["payload_sha256"] == "0f" * 32
    request = assert_forwarded(gateway, "RedactPayload", headers)
    assert request == pb.RedactPayloadRequest(seq=12, reason="erasure request #1234")
