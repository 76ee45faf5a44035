"""Reports read through the owning services' contracts, with the caller's token (export never
reads another service's schema).

actions_report: OpsService.ListActions page by page (newest first, so paging stops at the first
action older than `since`), then GetAction for each action in [since, until): the action with
its votes and the policy snapshot it was proposed under.

incidents_report: AgentService.ListIncidents page by page (newest first, created_after/before
set to the window, and paging stops at the first incident older than `since`), so it holds every
incident in [since, until) however many there are; each with every triage decision of it
(ListDecisions, page by page), whether or not the decision proposed anything. Memory holds one
page of incidents and one incident's decisions at a time. The evidence pack's reader takes an
incident's decisions the same way (incident_decisions)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf.message import Message

from runtime.auth import Principal
from runtime.errors import InvalidArgument
from services.export.clients.peers import call_peer, message_dict
from services.export.domain.exports import Export
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
PAGE, INCIDENT_PAGE, DECISION_PAGE = 200, 500, 500  # the agent caps its pages at 500
AGENT, OPS = "the agent service", "the ops service"
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
                    OPS,
                )
                yield message_dict(found)

    async def incidents(
        self, export: Export, caller: Principal
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        async for incident in self._incidents(export, caller):
            if _inside(export, incident.created_at.ToDatetime()) and all(
                getattr(incident, k) == v for k, v in export.parameters.items()
            ):
                row = message_dict(incident)
                row["decisions"] = await self.incident_decisions(incident.id, caller)
                yield row

    async def incident_decisions(self, incident_id: str, caller: Principal) -> list[dict[str, Any]]:
        """Every triage decision of the incident, newest first (ListDecisions)."""
        found: list[dict[str, Any]] = []
        token = ""
        while True:
            request = agent_pb2.ListDecisionsRequest(
                incident_id=incident_id,
                page=common_pb2.PageRequest(page_size=DECISION_PAGE, page_token=token),
            )
            page = await self._call(self._agent.ListDecisions, request, caller, AGENT)
            found += [message_dict(d) for d in page.decisions]
            token = page.next_page_token
            if not token:
                return found

    async def decision(self, decision_id: str, caller: Principal) -> dict[str, Any]:
        request = agent_pb2.GetDecisionRequest(id=decision_id)
        return message_dict(await self._call(self._agent.GetDecision, request, caller, AGENT))

    async def _incidents(
        self, export: Export, caller: Principal
    ) -> AsyncGenerator[agent_pb2.Incident, None]:
        token = ""
        while True:
            request = _incident_page(export, token)
            page = await self._call(self._agent.ListIncidents, request, caller, AGENT)
            for incident in page.incidents:
                if export.since and incident.created_at.ToDatetime(tzinfo=UTC) < export.since:
                    return  # newest first: everything further is older still
                yield incident
            token = page.next_page_token
            if not token:
                return

    async def _actions(
        self, since: datetime | None, caller: Principal, filters: Mapping[str, Any]
    ) -> AsyncGenerator[ops_pb2.Action, None]:
        token = ""
        while True:
            request = ops_pb2.ListActionsRequest(
                page=common_pb2.PageRequest(page_size=PAGE, page_token=token), **filters
            )
            page = await self._call(self._ops.ListActions, request, caller, OPS)
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
        return await call_peer(method, request, caller=caller, timeout_s=self._timeout_s, peer=peer)


def _incident_page(export: Export, token: str) -> agent_pb2.ListIncidentsRequest:
    request = agent_pb2.ListIncidentsRequest(
        page=common_pb2.PageRequest(page_size=INCIDENT_PAGE, page_token=token)
    )
    if export.since is not None:
        request.created_after.FromDatetime(export.since)
    if export.until is not None:
        request.created_before.FromDatetime(export.until)
    return request


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
