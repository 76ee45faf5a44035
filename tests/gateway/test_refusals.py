"""The gateway's refusal reporter: each 401/403 becomes one audit event, sent in batches;
while audit is away they wait (bounded), and what a flood pushes out is counted and audited."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import pytest

from gateway.refusals import RefusalReporter
from runtime.auth import Principal
from runtime.tokens import ServiceIdentity
from tests.keys import Keys
from tradeops.audit.v1 import audit_service_pb2 as audit_pb

BOB = Principal("bob", frozenset({"viewer"}))


@pytest.fixture
def identity(keys: Keys) -> ServiceIdentity:
    return ServiceIdentity(keys.serving("gateway"), "gateway")


class Unavailable(grpc.aio.AioRpcError):
    def __init__(self) -> None:
        super().__init__(
            grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "down", ""
        )


class FakeAudit:
    def __init__(self) -> None:
        self.batches: list[list[audit_pb.AuditEvent]] = []
        self.down = False

    async def AppendEvents(self, request: audit_pb.AppendEventsRequest, **_: Any) -> Any:
        if self.down:
            raise Unavailable()
        self.batches.append(list(request.events))
        return audit_pb.AppendEventsResponse()

    def events(self) -> list[audit_pb.AuditEvent]:
        return [event for batch in self.batches for event in batch]


async def _settle(reporter: RefusalReporter, audit: FakeAudit, count: int) -> None:
    for _ in range(200):
        if len(audit.events()) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {len(audit.events())} of {count} events sent")


async def test_a_refusal_becomes_one_denied_event_naming_caller_route_and_reason(
    identity: ServiceIdentity,
) -> None:
    audit = FakeAudit()
    reporter = RefusalReporter(audit, identity, 1.0)  # type: ignore[arg-type]
    task = asyncio.create_task(reporter.run())
    reporter.report(BOB, "POST", "/exports", 403, "no role among ['admin', 'compliance']")
    reporter.report(None, "GET", "/incidents", 401, "missing bearer token")
    await _settle(reporter, audit, 2)
    task.cancel()
    denied, anonymous = audit.events()
    assert denied.action == "gateway.access.denied"
    assert denied.outcome == "denied"
    assert denied.source == "gateway"
    assert denied.actor.subject == "bob"
    assert denied.target == "route POST /exports"
    assert json.loads(denied.payload_json)["status"] == 403
    assert anonymous.actor.subject == "anonymous"
    assert denied.event_id != anonymous.event_id


async def test_refusals_wait_while_audit_is_down_and_arrive_once_afterwards(
    identity: ServiceIdentity,
) -> None:
    audit = FakeAudit()
    audit.down = True
    reporter = RefusalReporter(audit, identity, 1.0)  # type: ignore[arg-type]
    task = asyncio.create_task(reporter.run())
    for n in range(3):
        reporter.report(BOB, "GET", f"/probes/{n}", 403, "no")
    await asyncio.sleep(0.2)
    assert audit.events() == []
    audit.down = False
    await _settle(reporter, audit, 3)
    task.cancel()
    ids = [event.event_id for event in audit.events()]
    assert len(ids) == len(set(ids)) == 3


async def test_a_flood_is_bounded_and_what_was_dropped_is_counted(
    identity: ServiceIdentity,
) -> None:
    audit = FakeAudit()
    reporter = RefusalReporter(audit, identity, 1.0, max_queued=10)  # type: ignore[arg-type]
    for n in range(25):  # 25 callers: each refusal is the first of its source, recorded on its own
        reporter.report(Principal(f"bob{n}", frozenset()), "GET", f"/x/{n}", 403, "no")
    task = asyncio.create_task(reporter.run())
    await _settle(reporter, audit, 11)
    task.cancel()
    events = audit.events()
    kept = [e.target for e in events if e.action == "gateway.access.denied"]
    assert kept == [f"route GET /x/{n}" for n in range(15, 25)]  # the newest ten
    (dropped,) = [e for e in events if e.action == "gateway.access.denied.dropped"]
    assert json.loads(dropped.payload_json)["dropped"] == 15
