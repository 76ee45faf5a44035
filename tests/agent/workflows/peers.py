"""Test doubles for the trigger steps' peers: an ExportService that records CreateExport and
is idempotent on client_key (optionally refusing the kind a few times first), and an ops
service answering GetAction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import grpc

from runtime.auth import ANYONE, COMPLIANCE, SERVICES, current_principal
from runtime.grpc_server import ServiceSpec
from tradeops.export.v1 import export_service_pb2 as export_pb
from tradeops.export.v1 import export_service_pb2_grpc as export_grpc
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

Context = grpc.aio.ServicerContext[Any, Any]


@dataclass
class FakeExport(export_grpc.ExportServiceServicer):
    calls: list[tuple[str, export_pb.CreateExportRequest]] = field(default_factory=list)
    refusals: int = 0
    made: dict[tuple[str, str], export_pb.Export] = field(default_factory=dict)

    async def CreateExport(
        self, request: export_pb.CreateExportRequest, context: Context
    ) -> export_pb.Export:
        subject = current_principal().subject
        self.calls.append((subject, request))
        if self.refusals:
            self.refusals -= 1
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not available yet")
        key = (subject, request.client_key)
        if key not in self.made:
            self.made[key] = export_pb.Export(
                id=str(uuid.uuid4()),
                kind=request.kind,
                state=export_pb.EXPORT_STATE_SIGNED,
                client_key=request.client_key,
                requested_by=subject,
            )
        return self.made[key]


@dataclass
class FakeOps(ops_grpc.OpsServiceServicer):
    kinds: dict[str, str] = field(default_factory=dict)

    async def GetAction(self, request: ops_pb.GetActionRequest, context: Context) -> ops_pb.Action:
        if request.id not in self.kinds:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no action {request.id}")
        return ops_pb.Action(
            id=request.id,
            kind=self.kinds[request.id],
            state=ops_pb.ACTION_STATE_EXECUTED,
            risk=ops_pb.RISK_HIGH,
        )


def export_spec(fake: FakeExport) -> ServiceSpec:
    name = export_pb.DESCRIPTOR.services_by_name["ExportService"].full_name
    return ServiceSpec(
        register=lambda server: export_grpc.add_ExportServiceServicer_to_server(fake, server),
        service_names=[name],
        rbac={f"/{name}/CreateExport": COMPLIANCE | SERVICES},
    )


def ops_spec(fake: FakeOps) -> ServiceSpec:
    name = ops_pb.DESCRIPTOR.services_by_name["OpsService"].full_name
    return ServiceSpec(
        register=lambda server: ops_grpc.add_OpsServiceServicer_to_server(fake, server),
        service_names=[name],
        rbac={f"/{name}/GetAction": ANYONE | SERVICES},
    )
