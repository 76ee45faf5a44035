"""The audit service's own guard: a flood of refused calls is a few records in the log, whose
counts add up to every refusal."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable

import grpc
import pytest

from runtime.auth import Principal, TokenVerifier
from runtime.clients import bearer, open_channel
from runtime.grpc_server import start
from runtime.refusals import RefusalSettings
from runtime.settings import AuthSettings
from services.audit.log.domain.filters import Filter
from services.audit.log.grpc_api.servicer import spec
from services.audit.log.service.log import AuditLog, refusal_hook
from services.audit.log.service.reading import list_records
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

Token = Callable[..., str]
AUDITOR = Principal("ada", frozenset({"compliance"}))


async def test_refused_appends_are_one_record_on_their_own_and_one_with_the_count(
    empty_log: AuditLog, auth_settings: AuthSettings, token_for: Token
) -> None:
    served = dataclasses.replace(
        spec(empty_log, []), on_refused=refusal_hook(empty_log, RefusalSettings())
    )
    running = await start(served, "127.0.0.1:0", TokenVerifier(auth_settings))
    try:
        async with open_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.AuditServiceStub(channel)
            for token in ("bad", token_for("mallory", "admin")):  # AppendEvents: services only
                for _ in range(5):
                    calls = (
                        stub.AppendEvents(pb.AppendEventsRequest(), metadata=bearer(token))
                        for _ in range(50)
                    )
                    outcomes = await asyncio.gather(*calls, return_exceptions=True)
                    assert all(isinstance(o, grpc.aio.AioRpcError) for o in outcomes)
    finally:
        await running.stop(0)  # records the windows still open

    await empty_log.sequencer.settled()
    found = {}
    for action in ("audit.access.denied", "audit.access.denied.aggregated"):
        page = await list_records(
            empty_log, caller=AUDITOR, after_seq=-1, limit=100, where=Filter(action=action)
        )
        found[action] = [r.event for r in page.records]
    assert sorted(e.actor.subject for e in found["audit.access.denied"]) == ["anonymous", "mallory"]
    counts = {
        e.actor.subject: json.loads(e.payload_json or "{}")["count"]
        for e in found["audit.access.denied.aggregated"]
    }
    assert counts == {"anonymous": 249, "mallory": 249}


async def test_a_window_of_zero_records_every_refusal_on_its_own(
    empty_log: AuditLog, auth_settings: AuthSettings
) -> None:
    served = dataclasses.replace(
        spec(empty_log, []), on_refused=refusal_hook(empty_log, RefusalSettings(window_s=0))
    )
    running = await start(served, "127.0.0.1:0", TokenVerifier(auth_settings))
    try:
        async with open_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.AuditServiceStub(channel)
            for _ in range(3):
                with pytest.raises(grpc.aio.AioRpcError):
                    await stub.AppendEvents(pb.AppendEventsRequest(), metadata=bearer("bad"))
    finally:
        await running.stop(0)

    await empty_log.sequencer.settled()
    page = await list_records(
        empty_log, caller=AUDITOR, after_seq=-1, limit=100, where=Filter(outcome="denied")
    )
    assert [r.event.action for r in page.records] == ["audit.access.denied"] * 3
