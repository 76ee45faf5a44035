"""The real Proposer: ops ProposeAction over gRPC, as the agent's own service identity, with a
deadline on every call. Any failure surfaces as Unavailable so the decision is retried later."""

from __future__ import annotations

import grpc
from google.protobuf import struct_pb2

from runtime.clients import bearer
from runtime.errors import Unavailable
from runtime.tokens import ServiceIdentity
from services.agent.triage.domain.proposals import Proposal
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc


class OpsProposer:
    def __init__(
        self, stub: ops_grpc.OpsServiceAsyncStub, identity: ServiceIdentity, timeout_s: float
    ) -> None:
        self._stub, self._identity, self._timeout_s = stub, identity, timeout_s

    async def propose(self, proposal: Proposal) -> str:
        try:
            action = await self._stub.ProposeAction(
                request(proposal),
                timeout=self._timeout_s,
                metadata=bearer(self._identity.token("ops")),
            )
        except grpc.aio.AioRpcError as exc:
            raise Unavailable(
                f"ops ProposeAction failed: {exc.code().name}: {exc.details()}"
            ) from None
        if not action.id:
            raise Unavailable("ops ProposeAction returned an action without an id")
        return action.id


def request(proposal: Proposal) -> ops_pb.ProposeActionRequest:
    recommendation = proposal.recommendation
    parameters = struct_pb2.Struct()
    parameters.update(dict(recommendation.parameters))
    return ops_pb.ProposeActionRequest(
        kind=recommendation.action,
        parameters=parameters,
        risk=ops_pb.Risk.Value(f"RISK_{recommendation.risk}"),
        rationale=recommendation.rationale,
        requested_by=proposal.requested_by,
        proposed_by=common_pb2.Actor(
            subject=f"agent-triage/{proposal.logic_name}",
            kind="agent",
            logic_version=proposal.logic_version,
        ),
        incident_id=proposal.incident_id,
        decision_id=proposal.decision_id,
        source_ref=proposal.source_ref,
    )
