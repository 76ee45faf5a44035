"""The audit log as the triggers read it, and the ops lookup that adds an action's kind, risk
and state to events about it; both over the peers' gRPC contracts with the agent's identity.

Reading the log is itself audited (one "audit.records.read" record per ListRecords call), so
the consumer asks GetCheckpoint (not audited) first and reads only when the signed log has
grown beyond its own last read record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc

from runtime.clients import bearer
from services.agent.workflows.domain.facts import event_facts
from tradeops.audit.v1 import audit_service_pb2 as audit_pb
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

PAGE = 500


@dataclass(frozen=True)
class Record:
    seq: int
    event_id: str
    action: str
    target: str
    actor: str
    facts: dict[str, str]


@dataclass(frozen=True)
class Page:
    records: list[Record]
    log_size: int


def record(message: audit_pb.AuditRecord) -> Record:
    event = message.event
    facts = event_facts(
        seq=message.seq,
        event_id=event.event_id,
        action=event.action,
        target=event.target,
        outcome=event.outcome,
        source=event.source,
        actor=event.actor.subject,
        occurred_at=event.occurred_at.ToDatetime().isoformat() + "Z",
        payload_json=event.payload_json,
    )
    return Record(
        message.seq, event.event_id, event.action, event.target, event.actor.subject, facts
    )


class AuditFeed:
    def __init__(
        self, audit: audit_grpc.AuditServiceAsyncStub, token: Callable[[], str], timeout_s: float
    ) -> None:
        self._audit, self._token, self._timeout = audit, token, timeout_s

    async def signed_size(self) -> int | None:
        """The latest checkpoint's tree size; None while the log has none."""
        try:
            reply = await self._audit.GetCheckpoint(
                audit_pb.GetCheckpointRequest(),
                metadata=bearer(self._token()),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return int(reply.tree_size)

    async def page(self, after_seq: int, limit: int = PAGE) -> Page:
        reply = await self._audit.ListRecords(
            audit_pb.ListRecordsRequest(after_seq=after_seq, limit=limit),
            metadata=bearer(self._token()),
            timeout=self._timeout,
        )
        return Page([record(r) for r in reply.records], int(reply.log_size))


class OpsActions:
    """action.kind / action.risk / action.state of "action/<id>" targets."""

    def __init__(
        self, ops: ops_grpc.OpsServiceAsyncStub, token: Callable[[], str], timeout_s: float
    ) -> None:
        self._ops, self._token, self._timeout = ops, token, timeout_s

    async def facts(self, action_id: str) -> dict[str, str]:
        """{} for an action ops does not know (its conditions then do not hold); any other
        error is raised, so the page is read again later."""
        try:
            reply = await self._ops.GetAction(
                ops_pb.GetActionRequest(id=action_id),
                metadata=bearer(self._token()),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return {}
            raise
        return {
            "action.kind": reply.kind,
            "action.risk": ops_pb.Risk.Name(reply.risk).removeprefix("RISK_"),
            "action.state": ops_pb.ActionState.Name(reply.state).removeprefix("ACTION_STATE_"),
        }
