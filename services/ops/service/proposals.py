"""Proposing an action and reading actions. Each use case runs in one transaction and writes
its audit events to the outbox in that same transaction. The other use cases are the sibling
modules of this package (voting, lifecycle, execution, assignment, escalation, policies);
`approve`, `reject`, `expire` and `assign` are re-exported here for the callers that propose,
read and decide (the gRPC servicer and the tests)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime import paging
from runtime.auth import Principal
from runtime.db import Database
from runtime.outbox import automation, person
from services.ops.domain import events
from services.ops.domain.actions import Action, Filters, Order, Risk, Vote
from services.ops.domain.eligibility import voter_refusal
from services.ops.domain.policy import DEFAULT_POLICY, require_minimum_risk, select
from services.ops.repository import actions, listing, outbox, policies, timeline, timers
from services.ops.service import escalation
from services.ops.service.assignment import assign as assign
from services.ops.service.lifecycle import expire as expire
from services.ops.service.transition import load
from services.ops.service.voting import approve as approve
from services.ops.service.voting import reject as reject


@dataclass(frozen=True)
class Proposal:
    kind: str
    risk: Risk
    requested_by: str
    source_ref: str
    parameters: dict[str, Any] = field(default_factory=dict)
    rationale: str = ""
    # The agent's {"subject", "logic_version"}; trusted only from a service caller.
    proposed_by: dict[str, Any] = field(default_factory=dict)
    incident_id: str = ""
    decision_id: str = ""


async def propose(
    db: Database, *, proposal: Proposal, proposer: Principal, now: datetime
) -> Action:
    """Records a pending action under the most specific current policy (snapshotted), with its
    expiry and escalation timers; the same proposer with the same source_ref again returns the
    existing action. A risk below the kind's minimum (domain.policy) is an InvalidArgument."""
    # Only a service (the agent) proposes for someone else; a person naming another requester
    # would bar that person from voting on it, or pin the request on them.
    # Only a service that acts for people (the agent) names the requester; anyone else
    # requests for themselves.
    requested_by = proposal.requested_by if proposer.acts_for_others else proposer.subject
    async with db.transaction() as session:
        current = await policies.current(session)
        require_minimum_risk(current, proposal.kind, proposal.risk)
        action = Action(
            id=str(uuid.uuid4()),
            kind=proposal.kind,
            parameters=proposal.parameters,
            parameters_author=requested_by,
            risk=proposal.risk,
            rationale=proposal.rationale,
            requested_by=requested_by,
            proposed_by=_proposer(proposal, proposer),
            source_ref=proposal.source_ref,
            created_at=now,
            updated_at=now,
            incident_id=proposal.incident_id,
            decision_id=proposal.decision_id,
            policy=select(current, proposal.kind, proposal.risk) if current else DEFAULT_POLICY,
        )
        if not await actions.add(session, action):
            return await _existing(session, action)
        await _opened(session, action, proposer)
    return action


async def _opened(session: AsyncSession, action: Action, proposer: Principal) -> None:
    await outbox.record(
        session, action.proposed_by, events.PROPOSED, action.id, events.summary(action)
    )
    await timeline.add(
        session,
        action_id=action.id,
        kind="state",
        actor=str(action.proposed_by.get("subject", proposer.subject)),
        machine=proposer.kind == "service",
        text=f"proposed under policy {action.policy.id} v{action.policy.version}",
        details=events.summary(action),
        at=action.created_at,
    )
    assert action.expires_at is not None
    await timers.schedule(session, action_id=action.id, kind="expire", due_at=action.expires_at)
    if action.policy.escalation_policy_id:
        await escalation.plan(session, action)


async def get(db: Database, *, action_id: str) -> Action:
    async with db.transaction() as session:
        return await load(session, action_id)


async def list_actions(
    db: Database, *, filters: Filters | None = None, page_size: int = 0, page_token: str = ""
) -> tuple[list[Action], str]:
    """A page of actions in the filters' order, and the token of the next page ("" after the
    last). An inbox (filters.awaiting) is empty for whoever may vote on nothing (a service, a
    viewer): the voter's own checks (domain.eligibility) run here, once."""
    filters = filters or Filters()
    limit, after = paging.page_size(page_size), _after(filters.order, page_token)
    who = filters.awaiting
    if who is not None and voter_refusal(Vote(who.voter, who.roles, True, "", who.at)):
        return [], ""
    async with db.transaction() as session:
        found = await actions.page(session, filters, limit + 1, after)
    if len(found) <= limit:
        return found, ""
    return found[:limit], _token(listing.place(found[limit - 1], filters.order))


def _after(order: Order, token: str) -> listing.After | None:
    return paging.decode_ranked(token) if order is Order.DEADLINE else paging.decode(token)


def _token(place: listing.After) -> str:
    if len(place) == 3:
        return paging.encode_ranked(*place)
    return paging.encode(*place)


async def _existing(session: AsyncSession, proposed: Action) -> Action:
    action = await actions.by_source_ref(session, proposed.proposer, proposed.source_ref)
    assert action is not None, "the insert conflicted on (proposer, source_ref): the row exists"
    return action


def _proposer(proposal: Proposal, principal: Principal) -> dict[str, Any]:
    # Only a service (the agent) may name someone else as proposer; people propose as themselves.
    agent = proposal.proposed_by
    if principal.kind == "service" and agent.get("subject"):
        return automation(str(agent["subject"]), str(agent.get("logic_version", "")))
    return person(principal)
