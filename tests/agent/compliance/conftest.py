"""Real in-process ops and audit servers, a fake export service, and the ComplianceService
under test wired to them, each over a rolled-back database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc
import pytest
from sqlalchemy import text

from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec, start
from runtime.settings import AuthSettings
from services.agent.compliance.clients.peers import Peers
from services.agent.compliance.grpc_api import servicer as grpc_api
from services.audit.log.grpc_api import servicer as audit_api
from services.audit.log.service.log import AuditLog
from services.ops.grpc_api import servicer as ops_api
from tests.agent.compliance.fakes import FakeExports, HandClock, export_spec
from tests.audit.conftest import audit_admin_db, empty_log
from tests.keys import verifier_for
from tradeops.agent.v1 import compliance_service_pb2_grpc as pb_grpc
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.export.v1 import export_service_pb2_grpc as export_grpc
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

__all__ = ["audit_admin_db", "empty_log"]  # the audit tests' fixtures, used here too
# Every action other tests committed is removed inside this test's rolled-back transaction.
CLEAR_OPS = ("timers", "timeline", "votes", "actions")


@dataclass
class Served:
    """Starts servers on port 0 and stops them all at the end of the test."""

    auth: AuthSettings
    stops: list[Callable[[], Awaitable[object]]]

    async def channel_to(self, spec: ServiceSpec) -> grpc.aio.Channel:
        running = await start(spec, "127.0.0.1:0", verifier_for(spec, self.auth))
        channel = open_channel(f"127.0.0.1:{running.port}")
        self.stops += [lambda: channel.close(None), lambda: running.stop(0)]
        return channel

    def nowhere(self) -> grpc.aio.Channel:
        """A channel for a peer the test never calls."""
        channel = open_channel("127.0.0.1:9")
        self.stops.append(lambda: channel.close(None))
        return channel


@pytest.fixture
async def served(auth_settings: AuthSettings) -> AsyncIterator[Served]:
    servers = Served(auth_settings, [])
    yield servers
    for stop in servers.stops:
        await stop()


@pytest.fixture
def clock() -> HandClock:
    return HandClock()


@pytest.fixture
async def ops(ops_db: Database, served: Served, clock: HandClock) -> ops_grpc.OpsServiceAsyncStub:
    async with ops_db.transaction() as session:
        for table in CLEAR_OPS:
            await session.execute(text(f"DELETE FROM ops.{table}"))
    channel = await served.channel_to(ops_api.spec(ops_db, lambda: None, clock=clock))
    return ops_grpc.OpsServiceStub(channel)


@pytest.fixture
def exports() -> FakeExports:
    return FakeExports()  # type: ignore[abstract]  # only ListExports is served


@pytest.fixture
async def export_stub(served: Served, exports: FakeExports) -> export_grpc.ExportServiceAsyncStub:
    return export_grpc.ExportServiceStub(await served.channel_to(export_spec(exports)))


@pytest.fixture
async def audit(empty_log: AuditLog, served: Served) -> audit_grpc.AuditServiceAsyncStub:
    channel = await served.channel_to(audit_api.spec(empty_log, []))
    return audit_grpc.AuditServiceStub(channel)


@pytest.fixture
def peers(
    ops: ops_grpc.OpsServiceAsyncStub,
    export_stub: export_grpc.ExportServiceAsyncStub,
    served: Served,
) -> Peers:
    """Ops and export; audit points nowhere (tests needing it use `audited_peers`)."""
    nowhere = audit_grpc.AuditServiceStub(served.nowhere())
    return Peers(ops=ops, audit=nowhere, export=export_stub, timeout_s=5)


@pytest.fixture
async def compliance(
    agent_db: Database, peers: Peers, served: Served, clock: HandClock
) -> pb_grpc.ComplianceServiceAsyncStub:
    channel = await served.channel_to(grpc_api.spec(agent_db, peers, clock=clock))
    return pb_grpc.ComplianceServiceStub(channel)


@pytest.fixture
async def audited_compliance(
    agent_db: Database,
    audit: audit_grpc.AuditServiceAsyncStub,
    export_stub: export_grpc.ExportServiceAsyncStub,
    served: Served,
    clock: HandClock,
) -> pb_grpc.ComplianceServiceAsyncStub:
    """ComplianceService whose audit peer is the real audit service over an empty log."""
    nowhere = ops_grpc.OpsServiceStub(served.nowhere())
    peers = Peers(ops=nowhere, audit=audit, export=export_stub, timeout_s=5)
    channel = await served.channel_to(grpc_api.spec(agent_db, peers, clock=clock))
    return pb_grpc.ComplianceServiceStub(channel)
