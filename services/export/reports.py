"""Reports read through the owning services' contracts, with the caller's token (export never
reads another service's schema).

actions_report: OpsService.ListActions page by page (newest first, so paging stops at the first
action older than `since`), then GetAction for each action in [since, until): the action with
its votes and the policy snapshot it was proposed under.

incidents_report: AgentService.ListIncidents (the agent contract has no paging yet: at most its
500 newest incidents), each in [since, until) with its triage decisions. The agent contract has
no incident-to-decision lookup either; the decisions included are those ops actions name
(decision_id), fetched with GetDecision. A triage that proposed nothing is not visible through
the contracts yet."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from runtime.auth import Principal
from runtime.clients import bearer
from runtime.errors import InvalidArgument
from services.export.domain import Export
from services.export.peer_errors import domain_error
from tradeops.agent.v1 import agent_service_pb2 as agent_pb2
from tradeops.agent.v1 import agent_service_pb2_grpc as agent_grpc
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as ops_pb2
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

ACTION_COLUMNS: tuple[str, ...] = (
    "id", "kind", "state", "risk", "parameters", "rationale", "requested_by", "proposed_by",
    "incident_id", "decision_id", "approvals_required", "approvals", "rejections", "votes",
    "policy", "compliance_relevant", "created_at", "updated_at", "execution_detail",
    "cancel_reason",
)  # fmt: skip
INCIDENT_COLUMNS: tuple[str, ...] = (
    "id", "source", "kind", "desk", "subject", "summary", "metrics", "observed_at", "created_at",
    "created_by", "decisions",
)  # fmt: skip
PAGE, MAX_INCIDENTS = 200, 500
T = TypeVar("T", bound=Message)


class GrpcReports:
    def __init__(
        self,
        ops: ops_grpc.OpsServiceAsyncStub,
        agent: agent_grpc.AgentServiceAsyncStub,
        *,
        timeout_s: float,
    ) -> None:
        self._ops, self._agent, self._timeout_s = ops, agent, timeout_s

    async def actions(
        self, export: Export, caller: Principal
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        async for action in self._actions(export.since, caller, _action_filters(export)):
            if _inside(export, action.created_at.ToDatetime()):
                found = await self._call(
                    self._ops.GetAction,
                    ops_pb2.GetActionRequest(id=action.id),
                    caller,
                    "the ops service",
                )
                yield _dict(found)

    async def incidents(
        self, export: Export, caller: Principal
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        request = agent_pb2.ListIncidentsRequest(limit=MAX_INCIDENTS)
        listed = await self._call(self._agent.ListIncidents, request, caller, "the agent service")
        wanted = [
            i
            for i in listed.incidents
            if _inside(export, i.created_at.ToDatetime())
            and all(getattr(i, k) == v for k, v in export.parameters.items())
        ]
        decided = await self.decision_ids({i.id for i in wanted}, caller)
        for incident in wanted:
            row = _dict(incident)
            row["decisions"] = [
                await self.decision(d, caller) for d in sorted(decided.get(incident.id, ()))
            ]
            yield row

    async def decision_ids(self, incident_ids: set[str], caller: Principal) -> dict[str, set[str]]:
        """The triage decisions ops actions name, by incident (a scan of every action: the
        agent contract has no incident-to-decision lookup)."""
        found: dict[str, set[str]] = {}
        async for action in self._actions(None, caller, {}):
            if action.incident_id in incident_ids and action.decision_id:
                found.setdefault(action.incident_id, set()).add(action.decision_id)
        return found

    async def decision(self, decision_id: str, caller: Principal) -> dict[str, Any]:
        request = agent_pb2.GetDecisionRequest(id=decision_id)
        return _dict(
            await self._call(self._agent.GetDecision, request, caller, "the agent service")
        )

    async def _actions(
        self, since: datetime | None, caller: Principal, filters: Mapping[str, Any]
    ) -> AsyncGenerator[ops_pb2.Action, None]:
        token = ""
        while True:
            request = ops_pb2.ListActionsRequest(
                page=common_pb2.PageRequest(page_size=PAGE, page_token=token), **filters
            )
            page = await self._call(self._ops.ListActions, request, caller, "the ops service")
            for action in page.actions:
                if since and action.created_at.ToDatetime(tzinfo=UTC) < since:
                    return  # newest first: everything further is older still
                yield action
            token = page.next_page_token
            if not token:
                return

    async def _call(
        self, method: Callable[..., Awaitable[T]], request: Message, caller: Principal, peer: str
    ) -> T:
        try:
            return await method(request, timeout=self._timeout_s, metadata=bearer(caller.token))
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc, peer) from None


def _action_filters(export: Export) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    if "kind" in export.parameters:
        filters["kind"] = str(export.parameters["kind"])
    if "state" in export.parameters:
        name = str(export.parameters["state"]).upper()
        name = name if name.startswith("ACTION_STATE_") else f"ACTION_STATE_{name}"
        if name not in ops_pb2.ActionState.keys():  # noqa: SIM118 (an enum wrapper, not a dict)
            raise InvalidArgument(f"unknown action state {export.parameters['state']!r}")
        filters["state"] = ops_pb2.ActionState.Value(name)
    return filters


def _inside(export: Export, created_at: datetime) -> bool:
    at = created_at.replace(tzinfo=UTC)
    return (export.since is None or at >= export.since) and (
        export.until is None or at < export.until
    )


def _dict(message: Message) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True)
