from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from random import Random
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from sqlalchemy import select

from runtime import backoff as backoff_module
from runtime.auth import SERVICES, Principal, TokenVerifier, current_principal
from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec, start
from runtime.relay import OutboxRelay
from runtime.settings import AuthSettings
from services.ops.service import proposals as service
from services.ops.tables import outbox
from tests.keys import identity_for
from tests.ops.helpers import NOW, later, proposal
from tradeops.audit.v1 import audit_service_pb2 as audit_pb
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc

NAME = audit_pb.DESCRIPTOR.services_by_name["AuditService"].full_name


class FakeAudit(audit_grpc.AuditServiceServicer):
    """Records what it is sent, as the real audit service would sequence it."""

    def __init__(self, refuse: grpc.StatusCode | None = None) -> None:
        self.events: list[audit_pb.AuditEvent] = []
        self.callers: list[str] = []
        self.refuse = refuse

    async def AppendEvents(
        self, request: audit_pb.AppendEventsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> audit_pb.AppendEventsResponse:
        self.callers.append(current_principal().subject)
        if self.refuse is not None:
            await context.abort(self.refuse, "refused by the test")
        start_seq = len(self.events)
        self.events.extend(request.events)
        return audit_pb.AppendEventsResponse(
            results=[
                audit_pb.AppendResult(event_id=e.event_id, seq=start_seq + i)
                for i, e in enumerate(request.events)
            ]
        )

    # The relay only appends; the other methods exist so the servicer is complete.
    async def ListRecords(
        self, request: audit_pb.ListRecordsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> audit_pb.ListRecordsResponse:
        raise NotImplementedError

    async def StreamRecords(
        self, request: audit_pb.StreamRecordsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[audit_pb.AuditRecord]:
        raise NotImplementedError
        yield audit_pb.AuditRecord()

    async def VerifyChain(
        self, request: audit_pb.VerifyChainRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> audit_pb.VerifyChainResponse:
        raise NotImplementedError


def fake_spec(fake: FakeAudit) -> ServiceSpec:
    return ServiceSpec(
        register=lambda server: audit_grpc.add_AuditServiceServicer_to_server(fake, server),
        service_names=[NAME],
        rbac={f"/{NAME}/AppendEvents": SERVICES},
    )


async def outbox_rows(db: Database) -> list[Any]:
    async with db.transaction() as session:
        return list((await session.execute(select(outbox).order_by(outbox.c.id))).all())


async def write_events(db: Database, principal_for: Callable[..., Principal]) -> None:
    agent = principal_for("svc:agent", "service")
    action = await service.propose(db, proposal=proposal(), proposer=agent, now=NOW)
    await service.approve(
        db, action_id=action.id, approver=principal_for("olga", "ops"), now=later(60)
    )


async def test_the_relay_delivers_use_case_events_to_the_audit_service(
    ops_db: Database,
    auth_settings: AuthSettings,
    serving: Callable[[str], AuthSettings],
    principal_for: Callable[..., Principal],
) -> None:
    await write_events(ops_db, principal_for)
    fake = FakeAudit()  # type: ignore[abstract]
    running = await start(fake_spec(fake), "127.0.0.1:0", TokenVerifier(serving("audit")))
    channel = open_channel(f"127.0.0.1:{running.port}")
    relay = OutboxRelay(
        ops_db, outbox, audit_grpc.AuditServiceStub(channel), identity_for("ops", auth_settings)
    )
    try:
        assert await relay.deliver_once() == 3
    finally:
        await channel.close(None)
        await running.stop(0)
    rows = await outbox_rows(ops_db)
    assert [e.event_id for e in fake.events] == [row.event_id for row in rows]
    assert [e.action for e in fake.events] == [
        "ops.action.proposed",
        "ops.action.vote_recorded",
        "ops.action.approved",
    ]
    assert fake.events[0].actor.subject == "triage-agent"
    assert fake.callers == ["svc:ops"]
    assert all(row.delivered_at is not None for row in rows)


async def test_undelivered_events_stay_pending_while_the_audit_service_is_down(
    ops_db: Database,
    auth_settings: AuthSettings,
    serving: Callable[[str], AuthSettings],
    principal_for: Callable[..., Principal],
) -> None:
    await write_events(ops_db, principal_for)
    running = await start(fake_spec(FakeAudit()), "127.0.0.1:0", TokenVerifier(serving("audit")))  # type: ignore[abstract]
    await running.stop(0)
    channel = open_channel(f"127.0.0.1:{running.port}")
    stub = audit_grpc.AuditServiceStub(channel)
    relay = OutboxRelay(ops_db, outbox, stub, identity_for("ops", auth_settings), timeout_s=2)
    try:
        assert await relay.deliver_once() == 0
    finally:
        await channel.close(None)
    rows = await outbox_rows(ops_db)
    assert len(rows) == 3
    assert all(row.delivered_at is None for row in rows)
    assert all(row.attempts == 1 for row in rows)
    assert all((row.last_error or "").startswith("UNAVAILABLE") for row in rows)
    # An outage is the relay's to wait out: the rows stay due for the first pass after it.
    assert all(row.next_attempt_at <= datetime.now(UTC) for row in rows)


async def test_a_batch_the_audit_service_refuses_waits_its_own_backoff(
    ops_db: Database,
    auth_settings: AuthSettings,
    serving: Callable[[str], AuthSettings],
    principal_for: Callable[..., Principal],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backoff_module, "random", Random(0))  # draws no near-zero delay
    await write_events(ops_db, principal_for)
    fake = FakeAudit(refuse=grpc.StatusCode.INVALID_ARGUMENT)  # type: ignore[abstract]
    running = await start(fake_spec(fake), "127.0.0.1:0", TokenVerifier(serving("audit")))
    channel = open_channel(f"127.0.0.1:{running.port}")
    stub = audit_grpc.AuditServiceStub(channel)
    relay = OutboxRelay(ops_db, outbox, stub, identity_for("ops", auth_settings))
    try:
        assert await relay.deliver_once() == 0
        assert await relay.deliver_once() == 0  # nothing due any more: no second call
    finally:
        await channel.close(None)
        await running.stop(0)
    rows = await outbox_rows(ops_db)
    assert fake.callers == ["svc:ops"]
    assert all(row.delivered_at is None and row.attempts == 1 for row in rows)
    assert all((row.last_error or "").startswith("INVALID_ARGUMENT") for row in rows)
    assert all(row.next_attempt_at > datetime.now(UTC) for row in rows)


async def test_the_audit_service_receives_each_event_exactly_as_the_outbox_stored_it(
    ops_db: Database,
    auth_settings: AuthSettings,
    serving: Callable[[str], AuthSettings],
    principal_for: Callable[..., Principal],
) -> None:
    await write_events(ops_db, principal_for)
    fake = FakeAudit()  # type: ignore[abstract]
    running = await start(fake_spec(fake), "127.0.0.1:0", TokenVerifier(serving("audit")))
    channel = open_channel(f"127.0.0.1:{running.port}")
    relay = OutboxRelay(
        ops_db, outbox, audit_grpc.AuditServiceStub(channel), identity_for("ops", auth_settings)
    )
    try:
        await relay.deliver_once()
    finally:
        await channel.close(None)
        await running.stop(0)
    # The relay builds the messages field by field; the proto3 JSON parser is the reference.
    stored = [
        json_format.ParseDict(row.event, audit_pb.AuditEvent()) for row in await outbox_rows(ops_db)
    ]
    assert list(fake.events) == stored
    assert all(e.occurred_at.seconds and e.payload_json and e.actor.roles for e in fake.events[1:])
