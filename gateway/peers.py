"""The gateway's connections to the four services: one grpc.aio channel per peer, opened in
the app's lifespan and closed on shutdown. The agent process serves three services (agent,
remediation, compliance) on one address, so their stubs share its channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2_grpc

from runtime.clients import open_channel
from tradeops.agent.v1 import agent_service_pb2_grpc as agent_grpc
from tradeops.agent.v1 import compliance_service_pb2_grpc as compliance_grpc
from tradeops.agent.v1 import probe_service_pb2_grpc as probe_grpc
from tradeops.agent.v1 import remediation_service_pb2_grpc as remediation_grpc
from tradeops.agent.v1 import trigger_service_pb2_grpc as trigger_grpc
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.export.v1 import export_service_pb2_grpc as export_grpc
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc


@dataclass(frozen=True)
class Peers:
    channels: Mapping[str, grpc.aio.Channel]
    agent: agent_grpc.AgentServiceAsyncStub
    remediation: remediation_grpc.RemediationServiceAsyncStub
    compliance: compliance_grpc.ComplianceServiceAsyncStub
    ops: ops_grpc.OpsServiceAsyncStub
    audit: audit_grpc.AuditServiceAsyncStub
    export: export_grpc.ExportServiceAsyncStub
    probes: probe_grpc.ProbeServiceAsyncStub
    triggers: trigger_grpc.TriggerServiceAsyncStub

    @classmethod
    def open(cls, addresses: Mapping[str, str]) -> Peers:
        channels = {svc: open_channel(address, svc) for svc, address in addresses.items()}
        return cls(
            channels=channels,
            agent=agent_grpc.AgentServiceStub(channels["agent"]),
            remediation=remediation_grpc.RemediationServiceStub(channels["agent"]),
            compliance=compliance_grpc.ComplianceServiceStub(channels["agent"]),
            ops=ops_grpc.OpsServiceStub(channels["ops"]),
            audit=audit_grpc.AuditServiceStub(channels["audit"]),
            export=export_grpc.ExportServiceStub(channels["export"]),
            probes=probe_grpc.ProbeServiceStub(channels["agent"]),
            triggers=trigger_grpc.TriggerServiceStub(channels["agent"]),
        )

    def health(self, service: str) -> Any:
        return health_pb2_grpc.HealthStub(self.channels[service])

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close(grace=None)
