"""What an evidence pack reads, through the owning services' contracts with the caller's token:
the ops action (GetAction: votes and policy snapshot; GetTimeline), its incident (AgentService
GetIncident) and that incident's triage decisions (those ops actions name, GetDecision), and
the audit records targeting the action or the incident (AuditService ListRecords) with their
inclusion proofs against a signed checkpoint that covers the log as it was when the pack was
cut (waited for: the audit service signs one within about a second of any new record)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from google.protobuf.message import Message

from runtime.auth import Principal
from runtime.errors import Unavailable
from services.export.clients.audit import GrpcAuditReader
from services.export.clients.audit_records import as_dict
from services.export.clients.peers import call_peer, message_dict
from services.export.clients.reports import AGENT, OPS, GrpcReports
from services.export.domain.exports import Checkpoint
from tradeops.agent.v1 import agent_service_pb2 as agent_pb2
from tradeops.agent.v1 import agent_service_pb2_grpc as agent_grpc
from tradeops.ops.v1 import ops_service_pb2 as ops_pb2
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

T = TypeVar("T", bound=Message)
CHECKPOINT_WAIT_S, CHECKPOINT_POLL_S = 20.0, 0.2


class GrpcEvidence:
    def __init__(
        self,
        ops: ops_grpc.OpsServiceAsyncStub,
        agent: agent_grpc.AgentServiceAsyncStub,
        audit: GrpcAuditReader,
        reports: GrpcReports,
        *,
        timeout_s: float,
        checkpoint_wait_s: float = CHECKPOINT_WAIT_S,
    ) -> None:
        self._ops, self._agent, self._audit, self._reports = ops, agent, audit, reports
        self._timeout_s, self._wait_s = timeout_s, checkpoint_wait_s

    async def action(self, action_id: str, caller: Principal) -> dict[str, Any]:
        """NotFound for an unknown action."""
        request = ops_pb2.GetActionRequest(id=action_id)
        found = await call_peer(
            self._ops.GetAction,
            request,
            caller=caller,
            timeout_s=self._timeout_s,
            peer=OPS,
            not_found=lambda _: f"no ops action {action_id!r}",
        )
        return message_dict(found)

    async def timeline(self, action_id: str, caller: Principal) -> list[dict[str, Any]]:
        request = ops_pb2.GetTimelineRequest(id=action_id)
        found = await self._call(self._ops.GetTimeline, request, caller, OPS)
        return [message_dict(entry) for entry in found.entries]

    async def incident(self, incident_id: str, caller: Principal) -> dict[str, Any]:
        request = agent_pb2.GetIncidentRequest(id=incident_id)
        found = await self._call(self._agent.GetIncident, request, caller, AGENT)
        return message_dict(found)

    async def decisions(
        self, incident_id: str, own_decision: str, caller: Principal
    ) -> list[dict[str, Any]]:
        """Every triage decision of the action's incident, those that proposed nothing included,
        and the action's own decision, by id."""
        found: list[dict[str, Any]] = []
        if incident_id:
            found = await self._reports.incident_decisions(incident_id, caller)
        if own_decision and own_decision not in {d["id"] for d in found}:
            found.append(await self._reports.decision(own_decision, caller))
        return sorted(found, key=lambda d: str(d["id"]))

    async def covering_checkpoint(self, caller: Principal) -> Checkpoint | None:
        """A signed checkpoint covering every record in the log now (None while it is empty);
        Unavailable when none is signed within the wait."""
        size = await self._audit.log_size(caller)
        deadline = time.monotonic() + self._wait_s
        while size:
            found = await self._audit.latest_checkpoint(caller)
            if found is not None and found.tree_size >= size:
                return found
            if time.monotonic() >= deadline:
                raise Unavailable(
                    f"no signed audit checkpoint covers the log's first {size} records yet;"
                    " try again shortly"
                )
            await asyncio.sleep(CHECKPOINT_POLL_S)
        return None

    async def audit_records(
        self, targets: list[str], checkpoint: Checkpoint, caller: Principal
    ) -> list[dict[str, Any]]:
        """Every record targeting one of `targets` inside the checkpoint, in seq order, each
        with its inclusion proof against it: {"record": ..., "inclusion_proof": ...}."""
        found: dict[int, Any] = {}
        for target in targets:
            async for record in self._audit.targeted(target, checkpoint.tree_size, caller):
                found[record.seq] = record
        size = checkpoint.tree_size
        return [
            {
                "record": as_dict(found[seq]),
                "inclusion_proof": await self._audit.inclusion_proof(seq, size, caller),
            }
            for seq in sorted(found)
        ]

    async def _call(
        self, method: Callable[..., Awaitable[T]], request: Message, caller: Principal, peer: str
    ) -> T:
        return await call_peer(
            method,
            request,
            caller=caller,
            timeout_s=self._timeout_s,
            peer=peer,
            not_found=lambda details: f"{peer} knows no such record: {details}",
        )
