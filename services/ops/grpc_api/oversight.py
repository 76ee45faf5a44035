"""The RPCs around a decision: who is on an action, whether the caller may vote on it, its
timeline, the approval and escalation policies, and the metrics. OpsServicer (grpc_api.servicer)
inherits them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any, TypeVar

import grpc

from runtime.auth import current_principal
from runtime.db import Database
from services.ops.domain.actions import Clock
from services.ops.grpc_api import listing
from services.ops.grpc_api import messages as to
from services.ops.service import (
    assignment,
    escalation,
    escalation_policies,
    metrics,
    policies,
    voting,
)
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext[Any, Any]
T = TypeVar("T")


class OversightRpcs(pb_grpc.OpsServiceServicer):
    _db: Database
    _clock: Clock
    # notify wakes the outbox relay once a use case that wrote events has committed.
    _notify: Callable[[], None]

    async def _changing(self, work: Awaitable[T]) -> T:
        try:
            return await work
        finally:
            self._notify()  # refusals write "denied" events too

    async def AssignAction(self, request: pb.AssignActionRequest, context: Context) -> pb.Action:
        case = assignment.assign(
            self._db,
            action_id=request.id,
            assignee=request.assignee,
            team=request.team,
            actor=current_principal(),
            now=self._clock(),
        )
        return to.action(await self._changing(case))

    async def AcknowledgeAction(
        self, request: pb.AcknowledgeActionRequest, context: Context
    ) -> pb.Action:
        case = assignment.acknowledge(
            self._db, action_id=request.id, actor=current_principal(), now=self._clock()
        )
        return to.action(await self._changing(case))

    async def EscalateAction(
        self, request: pb.EscalateActionRequest, context: Context
    ) -> pb.Action:
        case = escalation.escalate(
            self._db,
            action_id=request.id,
            actor=current_principal(),
            reason=request.reason,
            now=self._clock(),
        )
        return to.action(await self._changing(case))

    async def AddComment(self, request: pb.AddCommentRequest, context: Context) -> pb.TimelineEntry:
        case = assignment.comment(
            self._db,
            action_id=request.id,
            author=current_principal(),
            text=request.text,
            now=self._clock(),
        )
        return to.entry(await self._changing(case))

    async def GetTimeline(self, request: pb.GetTimelineRequest, context: Context) -> pb.Timeline:
        found = await assignment.entries(self._db, action_id=request.id)
        return pb.Timeline(entries=[to.entry(e) for e in found])

    async def PutPolicy(self, request: pb.PutPolicyRequest, context: Context) -> pb.ApprovalPolicy:
        case = policies.put_policy(
            self._db,
            policy=to.policy_from(request.policy),
            actor=current_principal(),
            now=self._clock(),
        )
        return to.policy(await self._changing(case))

    async def ListPolicies(
        self, request: pb.ListPoliciesRequest, context: Context
    ) -> pb.ListPoliciesResponse:
        found = await policies.list_policies(self._db, include_history=request.include_history)
        return pb.ListPoliciesResponse(policies=[to.policy(p) for p in found])

    async def PutEscalationPolicy(
        self, request: pb.PutEscalationPolicyRequest, context: Context
    ) -> pb.EscalationPolicy:
        case = escalation_policies.put_escalation_policy(
            self._db, to.escalation_policy_from(request.policy), current_principal(), self._clock()
        )
        return to.escalation_policy(await self._changing(case))

    async def ListEscalationPolicies(
        self, request: pb.ListEscalationPoliciesRequest, context: Context
    ) -> pb.ListEscalationPoliciesResponse:
        found = await escalation_policies.list_escalation_policies(self._db)
        return pb.ListEscalationPoliciesResponse(policies=[to.escalation_policy(p) for p in found])

    async def ExplainVote(
        self, request: pb.ExplainVoteRequest, context: Context
    ) -> pb.VoteEligibility:
        voter, now = current_principal(), self._clock()
        found = await voting.explain(self._db, action_id=request.id, voter=voter, now=now)
        return listing.eligibility(request.id, found)

    async def GetMetrics(self, request: pb.GetMetricsRequest, context: Context) -> pb.OpsMetrics:
        since = request.since.ToDatetime(UTC) if request.HasField("since") else None
        until = request.until.ToDatetime(UTC) if request.HasField("until") else None
        found = await metrics.compute(self._db, since=since, until=until, now=self._clock())
        return to.metrics(found)
