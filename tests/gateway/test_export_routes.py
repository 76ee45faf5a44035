from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from tests.gateway.conftest import Gateway, assert_forwarded
from tradeops.common.v1 import common_pb2
from tradeops.export.v1 import export_service_pb2 as pb

EXPORT_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a003"
SCHEDULE_ID = "0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a004"
SCHEDULE = {"name": "daily-audit", "cron": "0 6 * * 1-5", "kind": "audit_extract"}


def stamp(text: str) -> Timestamp:
    moment = Timestamp()
    moment.FromJsonString(text)
    return moment


def struct(value: dict[str, Any]) -> Struct:
    message = Struct()
    message.update(value)
    return message


async def test_compliance_requests_a_delivered_report_over_a_time_range(gateway: Gateway) -> None:
    gateway.recorder.replies["CreateExport"] = pb.Export(
        id=EXPORT_ID, kind="actions_report", state=pb.EXPORT_STATE_DELIVERED
    )
    headers = gateway.auth("compliance")
    body = {
        "kind": "actions_report",
        "format": "csv",
        "since": "2026-03-01T00:00:00Z",
        "until": "2026-04-01T00:00:00Z",
        "destination": "regulator-sftp",
        "client_key": "march-actions",
        "parameters": {"state": "EXECUTED"},
    }

    response = await gateway.client.post("/exports", json=body, headers=headers)

    assert response.status_code == 201
    assert response.json()["state"] == "DELIVERED"
    assert assert_forwarded(gateway, "CreateExport", headers) == pb.CreateExportRequest(
        kind="actions_report",
        format="csv",
        since=stamp("2026-03-01T00:00:00Z"),
        until=stamp("2026-04-01T00:00:00Z"),
        destination="regulator-sftp",
        client_key="march-actions",
        parameters=struct({"state": "EXECUTED"}),
    )


async def test_an_idempotency_key_header_is_the_client_key_unless_the_body_has_one(
    gateway: Gateway,
) -> None:
    headers = {**gateway.auth("admin"), "Idempotency-Key": "from-header"}

    await gateway.client.post("/exports", json={"kind": "audit_extract"}, headers=headers)
    first = assert_forwarded(gateway, "CreateExport", headers)
    gateway.recorder.calls.clear()
    await gateway.client.post(
        "/exports", json={"kind": "audit_extract", "client_key": "own"}, headers=headers
    )
    second = assert_forwarded(gateway, "CreateExport", headers)

    def wanted(key: str) -> pb.CreateExportRequest:
        return pb.CreateExportRequest(
            kind="audit_extract", format="jsonl", to_seq=-1, client_key=key
        )

    assert (first, second) == (wanted("from-header"), wanted("own"))


async def test_a_viewer_lists_exports_by_state_and_kind(gateway: Gateway) -> None:
    headers = gateway.auth("viewer")

    response = await gateway.client.get(
        "/exports?state=VERIFIED&kind=audit_extract&page_size=7&page_token=abc", headers=headers
    )

    assert response.status_code == 200
    assert assert_forwarded(gateway, "ListExports", headers) == pb.ListExportsRequest(
        state=pb.EXPORT_STATE_VERIFIED,
        kind="audit_extract",
        page=common_pb2.PageRequest(page_size=7, page_token="abc"),
    )


async def test_a_viewer_reads_an_export_and_its_delivery_attempts(gateway: Gateway) -> None:
    gateway.recorder.replies["ListAttempts"] = pb.ListAttemptsResponse(
        attempts=[pb.DeliveryAttempt(destination="sftp", outcome="failed", bytes=12)]
    )
    headers = gateway.auth("viewer")

    one = await gateway.client.get(f"/exports/{EXPORT_ID}", headers=headers)
    assert one.status_code == 200
    assert assert_forwarded(gateway, "GetExport", headers) == pb.GetExportRequest(id=EXPORT_ID)
    gateway.recorder.calls.clear()

    attempts = await gateway.client.get(f"/exports/{EXPORT_ID}/attempts", headers=headers)

    assert attempts.json()["attempts"][0]["outcome"] == "failed"
    assert attempts.json()["attempts"][0]["bytes"] == 12
    assert assert_forwarded(gateway, "ListAttempts", headers) == pb.ListAttemptsRequest(
        id=EXPORT_ID
    )


async def test_compliance_verifies_one_export_and_sees_the_problems(gateway: Gateway) -> None:
    gateway.recorder.replies["VerifyExport"] = pb.Verification(
        export_id=EXPORT_ID, ok=False, problems=["records.jsonl: SHA-256 does not match"]
    )
    headers = gateway.auth("compliance")

    response = await gateway.client.post(f"/exports/{EXPORT_ID}/verify", headers=headers)

    assert response.json()["ok"] is False
    assert response.json()["problems"] == ["records.jsonl: SHA-256 does not match"]
    assert assert_forwarded(gateway, "VerifyExport", headers) == pb.VerifyExportRequest(
        id=EXPORT_ID
    )


async def test_compliance_verifies_every_export_of_a_window(gateway: Gateway) -> None:
    headers = gateway.auth("compliance")

    response = await gateway.client.post(
        "/exports/verify", json={"since": "2026-03-01T00:00:00Z"}, headers=headers
    )

    assert response.json() == {"results": []}
    assert assert_forwarded(gateway, "VerifyExports", headers) == pb.VerifyExportsRequest(
        since=stamp("2026-03-01T00:00:00Z")
    )


async def test_compliance_redelivers_to_another_destination_or_its_own(gateway: Gateway) -> None:
    headers = gateway.auth("admin")

    response = await gateway.client.post(
        f"/exports/{EXPORT_ID}/redeliver", json={"destination": "backup"}, headers=headers
    )
    assert response.status_code == 200
    assert assert_forwarded(gateway, "RedeliverExport", headers) == pb.RedeliverExportRequest(
        id=EXPORT_ID, destination="backup"
    )
    gateway.recorder.calls.clear()

    await gateway.client.post(f"/exports/{EXPORT_ID}/redeliver", headers=headers)
    assert assert_forwarded(gateway, "RedeliverExport", headers) == pb.RedeliverExportRequest(
        id=EXPORT_ID
    )


async def test_compliance_creates_replaces_lists_and_deletes_schedules(gateway: Gateway) -> None:
    headers = gateway.auth("compliance")
    expected = pb.Schedule(
        name="daily-audit", cron="0 6 * * 1-5", kind="audit_extract", format="jsonl", enabled=True
    )

    created = await gateway.client.post("/exports/schedules", json=SCHEDULE, headers=headers)
    assert created.status_code == 201
    request = assert_forwarded(gateway, "PutSchedule", headers)
    assert request == pb.PutScheduleRequest(schedule=expected)
    gateway.recorder.calls.clear()

    replaced = await gateway.client.put(
        f"/exports/schedules/{SCHEDULE_ID}", json={**SCHEDULE, "enabled": False}, headers=headers
    )
    assert replaced.status_code == 200
    request = assert_forwarded(gateway, "PutSchedule", headers)
    expected.MergeFrom(pb.Schedule(id=SCHEDULE_ID))
    expected.enabled = False
    assert request == pb.PutScheduleRequest(schedule=expected)
    gateway.recorder.calls.clear()

    listed = await gateway.client.get("/exports/schedules", headers=gateway.auth("viewer"))
    assert listed.json() == {"schedules": []}
    gateway.recorder.calls.clear()

    deleted = await gateway.client.delete(f"/exports/schedules/{SCHEDULE_ID}", headers=headers)
    assert deleted.status_code == 204
    assert assert_forwarded(gateway, "DeleteSchedule", headers) == pb.DeleteScheduleRequest(
        id=SCHEDULE_ID
    )


async def test_a_viewer_fetches_the_signing_keys(gateway: Gateway) -> None:
    gateway.recorder.replies["ListPublicKeys"] = pb.ListPublicKeysResponse(
        keys=[pb.SigningKey(key_id="00ff", pem="-----BEGIN PUBLIC KEY-----")]
    )
    headers = gateway.auth("viewer")

    response = await gateway.client.get("/exports/keys", headers=headers)

    assert response.json()["keys"][0]["key_id"] == "00ff"
    assert_forwarded(gateway, "ListPublicKeys", headers)


async def test_exports_without_a_token_are_401(gateway: Gateway) -> None:
    assert (await gateway.client.get("/exports/keys")).status_code == 401
    response = await gateway.client.post("/exports", json={"kind": "audit_extract"})
    assert response.status_code == 401
    assert gateway.recorder.calls == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/exports", {"kind": "audit_extract"}),
        (f"/exports/{EXPORT_ID}/redeliver", {}),
        ("/exports/verify", {}),
        ("/exports/schedules", SCHEDULE),
    ],
)
async def test_a_trader_cannot_change_exports(gateway: Gateway, path: str, body: Any) -> None:
    response = await gateway.client.post(path, json=body, headers=gateway.auth("trader"))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert gateway.recorder.calls == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/exports", {}),
        ("/exports", {"kind": "compliance_results"}),
        ("/exports", {"kind": "audit_extract", "format": "xml"}),
        ("/exports", {"kind": "audit_extract", "surprise": 1}),
        ("/exports", {"kind": "audit_extract", "from_seq": "1"}),
        ("/exports", {"kind": "actions_report", "from_seq": 1}),
        ("/exports", {"kind": "audit_extract", "to_seq": 1, "since": "2026-03-01T00:00:00Z"}),
        ("/exports", {"kind": "audit_extract", "client_key": "x" * 201}),
        ("/exports", {"kind": "audit_extract", "destination": "../etc"}),
        (
            "/exports",
            {
                "kind": "incidents_report",
                "since": "2026-03-02T00:00:00Z",
                "until": "2026-03-01T00:00:00Z",
            },
        ),
        ("/exports/verify", {"ids": ["not-a-uuid"]}),
        ("/exports/verify", {"ids": [EXPORT_ID], "since": "2026-03-01T00:00:00Z"}),
        (f"/exports/{EXPORT_ID}/redeliver", {"destination": 3}),
        ("/exports/schedules", {**SCHEDULE, "cron": ""}),
        ("/exports/schedules", {**SCHEDULE, "id": SCHEDULE_ID}),
        ("/exports/not-a-uuid/verify", {}),
    ],
)
async def test_a_bad_export_request_is_422(gateway: Gateway, path: str, body: Any) -> None:
    response = await gateway.client.post(path, json=body, headers=gateway.auth("admin"))

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "INVALID_ARGUMENT"
    assert gateway.recorder.calls == []


async def test_an_unknown_state_filter_or_empty_idempotency_key_is_422(gateway: Gateway) -> None:
    headers = gateway.auth("admin")
    listed = await gateway.client.get("/exports?state=lost", headers=headers)
    created = await gateway.client.post(
        "/exports", json={"kind": "audit_extract"}, headers={**headers, "Idempotency-Key": " "}
    )

    assert (listed.status_code, created.status_code) == (422, 422)
    assert gateway.recorder.calls == []
