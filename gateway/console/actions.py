"""The inbox and the action page, and what a person does to an action from it: approve or
reject with a comment, assign, acknowledge, comment, escalate. Each change is a form posted
here, turned into the ops call the API route makes, then back to the page (post, redirect,
get), so a reload never sends a vote twice."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from gateway.console import live
from gateway.console.guard import Person, SignedIn, check_form
from gateway.console.render import render
from gateway.deps import Rpc, as_json
from gateway.errors import ApiError
from gateway.rbac import ACTION
from tradeops.agent.v1 import agent_service_pb2 as agent_pb
from tradeops.ops.v1 import ops_service_pb2 as pb

router = APIRouter(prefix="/console", include_in_schema=False)

INBOX_SIZE = 100
# What each form does: the API route whose roles it needs, and the ops call it makes.
CHANGES = {
    "approve": "approve",
    "reject": "reject",
    "assign": "assign",
    "acknowledge": "acknowledge",
    "comment": "comments",
    "escalate": "escalate",
}


@router.get("/")
async def inbox(request: Request, person: SignedIn) -> HTMLResponse:
    waiting = await _waiting(request, person)
    return render(request, "inbox.html", person=person, actions=waiting, nav="inbox")


@router.get("/inbox-rows")
async def inbox_rows(request: Request, person: SignedIn) -> HTMLResponse:
    """The inbox's table alone: what the page fetches when the live feed says it changed."""
    waiting = await _waiting(request, person)
    return render(request, "inbox_rows.html", person=person, actions=waiting)


async def _waiting(request: Request, person: Person) -> list[dict[str, Any]]:
    """The person's inbox as ops keeps it: what they may approve now, soonest deadline first,
    then the riskiest."""
    rpc = person.rpc(request)
    query = pb.ListActionsRequest(awaiting_me=True, order=pb.ACTION_ORDER_DEADLINE)
    query.page.page_size = INBOX_SIZE
    reply = await rpc.peers.ops.ListActions(query, timeout=rpc.timeout, metadata=rpc.metadata)
    return [as_json(action) for action in reply.actions]


@router.get("/events")
async def events(request: Request, person: SignedIn) -> StreamingResponse:
    """The inbox's live feed (gateway.console.live): server-sent events from the audit log's
    new action records, read with the person's own token."""
    rpc = person.rpc(request)
    frames = live.action_events(rpc.peers, rpc.metadata, request.is_disconnected)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy buffering
    return StreamingResponse(frames, media_type="text/event-stream", headers=headers)


@router.get("/actions/{action_id}")
async def action_page(request: Request, action_id: UUID, person: SignedIn) -> HTMLResponse:
    rpc = person.rpc(request)
    ident = str(action_id)
    action, timeline, eligibility = await asyncio.gather(
        rpc.peers.ops.GetAction(pb.GetActionRequest(id=ident), **_call(rpc)),
        rpc.peers.ops.GetTimeline(pb.GetTimelineRequest(id=ident), **_call(rpc)),
        rpc.peers.ops.ExplainVote(pb.ExplainVoteRequest(id=ident), **_call(rpc)),
    )
    decision, incident = await _origin(rpc, action)
    shown = as_json(action)
    return render(
        request,
        "action.html",
        person=person,
        action=shown,
        timeline=as_json(timeline)["entries"],
        decision=decision,
        incident=incident,
        offers=offers(person, shown, eligibility),
        nav="inbox",
    )


@router.post("/actions/{action_id}/{change}")
async def change_action(
    request: Request,
    action_id: UUID,
    change: str,
    person: SignedIn,
    csrf: Annotated[str, Form()] = "",
    text: Annotated[str, Form(max_length=2000)] = "",
    assignee: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    check_form(request, person.session, csrf)
    if change not in CHANGES:
        raise ApiError(404, "NOT_FOUND", f"no such change: {change}")
    if not person.may("POST", f"{ACTION}/{CHANGES[change]}"):
        raise ApiError(403, "PERMISSION_DENIED", f"your roles cannot {change} actions")
    rpc = person.rpc(request)
    await _send(rpc, change, str(action_id), text.strip(), assignee.strip())
    return RedirectResponse(f"/console/actions/{action_id}", status_code=303)


async def _send(rpc: Rpc, change: str, ident: str, text: str, assignee: str) -> None:
    ops, call = rpc.peers.ops, _call(rpc)
    match change:
        case "approve":
            await ops.ApproveAction(pb.VoteRequest(id=ident, comment=text), **call)
        case "reject":
            await ops.RejectAction(pb.VoteRequest(id=ident, comment=text), **call)
        case "assign":
            await ops.AssignAction(pb.AssignActionRequest(id=ident, assignee=assignee), **call)
        case "acknowledge":
            await ops.AcknowledgeAction(pb.AcknowledgeActionRequest(id=ident), **call)
        case "comment":
            await ops.AddComment(pb.AddCommentRequest(id=ident, text=text), **call)
        case "escalate":
            await ops.EscalateAction(pb.EscalateActionRequest(id=ident, reason=text), **call)


def _call(rpc: Rpc) -> dict[str, Any]:
    return {"timeout": rpc.timeout, "metadata": rpc.metadata}


Found = dict[str, Any] | None


async def _origin(rpc: Rpc, action: pb.Action) -> tuple[Found, Found]:
    """The triage decision that proposed the action and its incident, when it has them."""
    agent = rpc.peers.agent

    async def decision() -> Found:
        if not action.decision_id:
            return None
        found = await agent.GetDecision(
            agent_pb.GetDecisionRequest(id=action.decision_id), **_call(rpc)
        )
        return as_json(found)

    async def incident() -> Found:
        if not action.incident_id:
            return None
        found = await agent.GetIncident(
            agent_pb.GetIncidentRequest(id=action.incident_id), **_call(rpc)
        )
        return as_json(found)

    return await asyncio.gather(decision(), incident())


def offers(person: Person, action: dict[str, Any], vote: pb.VoteEligibility) -> dict[str, Any]:
    """Which forms the page shows. The vote's buttons show for a role that may vote through the
    API, disabled with ops' own reason (ExplainVote, the function the vote refuses with) when
    this person may not cast that vote now."""
    pending = action["state"] == "PENDING_APPROVAL"
    return {
        "vote": person.may("POST", f"{ACTION}/approve") and pending,
        "approve": vote.may_approve,
        "reject": vote.may_reject,
        "why_not": vote.reason,
        "assign": person.may("POST", f"{ACTION}/assign") and pending,
        "acknowledge": person.may("POST", f"{ACTION}/acknowledge") and pending,
        "comment": person.may("POST", f"{ACTION}/comments"),
        # Escalating follows the policy's escalation chain: none, nothing to offer.
        "escalate": person.may("POST", f"{ACTION}/escalate")
        and pending
        and bool(action["policy"]["escalation_policy_id"]),
    }
