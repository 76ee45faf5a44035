"""Query strings of /agent/remediation: the executions of approved actions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from gateway.bodies.base import Id, QueryModel
from tradeops.agent.v1 import remediation_service_pb2 as remediation_pb


class ExecutionQuery(QueryModel):
    action_id: Id | None = Field(None, description="Only this ops action's executions")
    limit: Annotated[int, Field(ge=1, le=500)] = 50

    def to_message(self) -> remediation_pb.ListExecutionsRequest:
        action_id = str(self.action_id) if self.action_id else ""
        return remediation_pb.ListExecutionsRequest(action_id=action_id, limit=self.limit)
