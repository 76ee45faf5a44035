"""Test doubles: a clock moved by hand, a fake ExportService, in-memory check sources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from runtime.auth import ANYONE, SERVICES
from runtime.grpc_server import ServiceSpec
from services.agent.compliance.domain.views import (
    ActionView,
    ChainVerdict,
    EscalationView,
    ExportView,
)
from tradeops.export.v1 import export_service_pb2 as pb
from tradeops.export.v1 import export_service_pb2_grpc as pb_grpc


class HandClock:
    """Starts at the real time (the incident intake refuses observations from the future)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class FakeExports(pb_grpc.ExportServiceServicer):
    """ListExports over a list the test fills, two per page to exercise paging."""

    exports: list[pb.Export] = field(default_factory=list)

    async def ListExports(
        self, request: pb.ListExportsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListExportsResponse:
        start = int(request.page.page_token or 0)
        page = self.exports[start : start + 2]
        more = start + 2 < len(self.exports)
        return pb.ListExportsResponse(exports=page, next_page_token=str(start + 2) if more else "")


def export_spec(fake: FakeExports) -> ServiceSpec:
    name = pb.DESCRIPTOR.services_by_name["ExportService"].full_name
    return ServiceSpec(
        register=lambda server: pb_grpc.add_ExportServiceServicer_to_server(fake, server),
        service_names=[name],
        rbac={f"/{name}/ListExports": ANYONE | SERVICES},
    )


@dataclass
class FakeSources:
    """Sources held in memory, for the checks' own rules."""

    action_list: list[ActionView] = field(default_factory=list)
    escalations: dict[str, EscalationView] = field(default_factory=dict)
    timeline: dict[str, list[datetime]] = field(default_factory=dict)
    export_list: list[ExportView] = field(default_factory=list)
    chain: ChainVerdict = field(default_factory=lambda: ChainVerdict(True, 0, -1, ""))

    async def actions(self) -> Sequence[ActionView]:
        return self.action_list

    async def escalation_policies(self) -> Mapping[str, EscalationView]:
        return self.escalations

    async def escalated_at(self, action_id: str) -> Sequence[datetime]:
        return self.timeline.get(action_id, [])

    async def exports(self) -> Sequence[ExportView]:
        return self.export_list

    async def verify_chain(self) -> ChainVerdict:
        return self.chain
