"""Use cases of the ops service: proposing and reading. Each runs in one transaction and
writes its audit events to the outbox in that same transaction; a refused vote is audited in a
transaction of its own (services.ops.refusals). Lifecycle, assignment and policy use cases live
in voting.py, lifecycle.py, execution.py, assignment.py and policies.py; `approve`, `reject`,
`expire` and `assign` are re-exported here, the one place callers look for use cases."""

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
from services.ops import escalation, events, policy_store, repository, timeline, timers
from services.ops.assignment import assign as assign
from services.ops.domain import Action, Risk
from services.ops.lifecycle import expire as expire
from services.ops.policy import DEFAULT_POLICY, select
from services.ops.repository import Filters
from services.ops.transition import load
from services.ops.voting import approve as approve
from services.ops.voting import reject as reject


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
    expiry and escalation timers; the same source_ref again returns the existing action."""
    async with db.transaction() as session:
        policies = await policy_store.current(session)
        action = Action(
            id=str(uuid.uuid4()),
            kind=proposal.kind,
            parameters=proposal.parameters,
            risk=proposal.risk,
            rationale=proposal.rationale,
            requested_by=proposal.requested_by,
            proposed_by=_proposer(proposal, proposer),
            source_ref=proposal.source_ref,
            created_at=now,
            updated_at=now,
            incident_id=proposal.incident_id,
            decision_id=proposal.decision_id,
            policy=select(policies, proposal.kind, proposal.risk) if policies else DEFAULT_POLICY,
        )
        if not await repository.add_action(session, action):
            return await _existing(session, action.source_ref)
        await _opened(session, action, proposer)
    return action


async def _opened(session: AsyncSession, action: Action, proposer: Principal) -> None:
    await events.record(
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
    """A page of actions, newest first, and the token of the next page ("" after the last)."""
    limit, after = paging.page_size(page_size), paging.decode(page_token)
    async with db.transaction() as session:
        found = await repository.page(session, filters or Filters(), limit + 1, after)
    if len(found) <= limit:
        return found, ""
    last = found[limit - 1]
    return found[:limit], paging.encode(last.created_at, last.id)


async def _existing(session: AsyncSession, source_ref: str) -> Action:
    action = await repository.by_source_ref(session, source_ref)
    assert action is not None, "the insert conflicted on source_ref, so the row exists"
    return action


def _proposer(proposal: Proposal, principal: Principal) -> dict[str, Any]:
    # Only a service (the agent) may name someone else as proposer; people propose as themselves.
    agent = proposal.proposed_by
    if principal.kind == "service" and agent.get("subject"):
        return automation(str(agent["subject"]), str(agent.get("logic_version", "")))
    return person(principal)
