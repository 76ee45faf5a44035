"""Sources for one run of the checks: the peers' gRPC contracts, called with one token (the
caller's for an on-demand run, the agent's own for a scheduled one), each read once per run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc

from runtime.clients import bearer, open_channel
from services.agent.compliance.clients import messages as to
from services.agent.compliance.domain.checks import PeerError
from services.agent.compliance.domain.views import (
    ActionView,
    ChainVerdict,
    EscalationView,
    ExportView,
)
from tradeops.audit.v1 import audit_service_pb2 as audit_pb
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.common.v1 import common_pb2
from tradeops.export.v1 import export_service_pb2 as export_pb
from tradeops.export.v1 import export_service_pb2_grpc as export_grpc
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

PAGE = 500


@dataclass(frozen=True)
class Peers:
    ops: ops_grpc.OpsServiceAsyncStub
    audit: audit_grpc.AuditServiceAsyncStub
    export: export_grpc.ExportServiceAsyncStub
    timeout_s: float

    @classmethod
    def open(cls, addresses: Mapping[str, str], timeout_s: float) -> Peers:
        """Channels to the "ops", "audit" and "export" addresses of the process settings."""
        return cls(
            ops=ops_grpc.OpsServiceStub(open_channel(addresses["ops"], "ops")),
            audit=audit_grpc.AuditServiceStub(open_channel(addresses["audit"], "audit")),
            export=export_grpc.ExportServiceStub(open_channel(addresses["export"], "export")),
            timeout_s=timeout_s,
        )


class GrpcSources:
    def __init__(self, peers: Peers, token: str) -> None:
        self._peers, self._meta = peers, bearer(token)
        self._actions: list[ActionView] | None = None
        self._escalations: dict[str, EscalationView] | None = None
        self._exports: list[ExportView] | None = None
        self._chain: ChainVerdict | None = None

    async def actions(self) -> Sequence[ActionView]:
        if self._actions is None:
            self._actions = [
                to.action(a, await self._authors(a)) for a in await self._all_actions()
            ]
        return self._actions

    async def _authors(self, action: ops_pb.Action) -> tuple[tuple[int, str], ...]:
        """Who wrote each edited parameters version, from the timeline (which ops writes with
        the change, so a tampered action row does not hide it); only edited actions, which are
        few, cost this call."""
        if action.parameters_version <= 1:
            return ()
        reply = await self._call(
            self._peers.ops.GetTimeline, ops_pb.GetTimelineRequest(id=action.id)
        )
        return to.parameters_authors(reply.entries)

    async def _all_actions(self) -> list[ops_pb.Action]:
        found: list[ops_pb.Action] = []
        token = ""
        while True:
            page = common_pb2.PageRequest(page_size=PAGE, page_token=token)
            reply = await self._call(
                self._peers.ops.ListActions, ops_pb.ListActionsRequest(page=page)
            )
            found.extend(reply.actions)
            token = reply.next_page_token
            if not token:
                return found

    async def escalation_policies(self) -> Mapping[str, EscalationView]:
        if self._escalations is None:
            reply = await self._call(
                self._peers.ops.ListEscalationPolicies, ops_pb.ListEscalationPoliciesRequest()
            )
            self._escalations = {p.id: to.escalation(p) for p in reply.policies}
        return self._escalations

    async def escalated_at(self, action_id: str) -> Sequence[datetime]:
        reply = await self._call(
            self._peers.ops.GetTimeline, ops_pb.GetTimelineRequest(id=action_id)
        )
        return [to.when(e.at) for e in reply.entries if e.kind == "escalation"]

    async def exports(self) -> Sequence[ExportView]:
        if self._exports is None:
            self._exports = [to.export(e) for e in await self._all_exports()]
        return self._exports

    async def _all_exports(self) -> list[export_pb.Export]:
        found: list[export_pb.Export] = []
        token = ""
        while True:
            page = common_pb2.PageRequest(page_size=PAGE, page_token=token)
            reply = await self._call(
                self._peers.export.ListExports, export_pb.ListExportsRequest(page=page)
            )
            found.extend(reply.exports)
            token = reply.next_page_token
            if not token:
                return found

    async def verify_chain(self) -> ChainVerdict:
        if self._chain is None:
            reply = await self._call(self._peers.audit.VerifyChain, audit_pb.VerifyChainRequest())
            self._chain = ChainVerdict(reply.ok, reply.checked, reply.first_bad_seq, reply.reason)
        return self._chain

    async def _call(self, method: Any, request: Any) -> Any:
        """A refusal or failure of a peer becomes PeerError, so the check is ERROR."""
        try:
            return await method(request, metadata=self._meta, timeout=self._peers.timeout_s)
        except grpc.RpcError as exc:
            raise PeerError(exc.code().name, str(exc.details())) from None
