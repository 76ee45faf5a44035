"""How the agent process serves ComplianceService and runs its scheduler; see WIRING.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from runtime.auth import ServiceIdentity
from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec
from runtime.settings import ServiceSettings
from services.agent.compliance import grpc_api, scheduler
from services.agent.compliance.settings import ComplianceSettings
from services.agent.compliance.sources import GrpcSources, Peers
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.export.v1 import export_service_pb2_grpc as export_grpc
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc


def now() -> datetime:
    return datetime.now(UTC)


def compliance_spec(
    settings: ServiceSettings,
    db: Database,
    *,
    wake: Callable[[], None],
    options: ComplianceSettings | None = None,
) -> ServiceSpec:
    """ComplianceService with its scheduler worker; merge it into the agent's ServiceSpec."""
    options = options or ComplianceSettings.from_env()
    peers = Peers(
        ops=ops_grpc.OpsServiceStub(open_channel(settings.peers["ops"])),
        audit=audit_grpc.AuditServiceStub(open_channel(settings.peers["audit"])),
        export=export_grpc.ExportServiceStub(open_channel(settings.peers["export"])),
        timeout_s=settings.rpc_timeout_s,
    )
    identity = ServiceIdentity(settings.auth, "agent")

    async def scheduled() -> None:
        await scheduler.run_forever(
            db,
            lambda: GrpcSources(peers, identity.token()),
            now,
            limits=options.limits,
            schedule=options.schedule,
            poll_s=options.poll_s,
            wake=wake,
        )

    return grpc_api.spec(
        db,
        peers,
        limits=options.limits,
        config=options.summaries,
        clock=now,
        wake=wake,
        workers=[scheduled],
    )
