"""Delivering a decision's recommended remediation to ops, now or later.

A decision is committed before its proposal is attempted, so ops being down loses nothing: the
decision waits with an empty action id, and `deliver_pending_proposals` (one pass of the
proposal_retry worker, workers.proposals) claims due ones with FOR UPDATE SKIP LOCKED and
proposes them again. ProposeAction is idempotent on source_ref ("decision/<id>"), so a retry
racing the first attempt is harmless, and the action id is stored (and announced) only once."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.backoff import Backoff
from runtime.db import Database
from runtime.errors import DomainError, Unavailable
from runtime.outbox import automation
from services.agent.triage.domain.decisions import Decision
from services.agent.triage.domain.proposals import Proposer, proposal_for
from services.agent.triage.repository import decisions as decision_rows
from services.agent.triage.repository import outbox

log = logging.getLogger(__name__)
MAX_RETRY_DELAY_S = 300
OUTAGE_RETRY_DELAY_S = 30
PASS_LIMIT = 20


async def deliver(db: Database, proposer: Proposer, decision: Decision) -> Decision:
    """First attempt, right after the decision committed; on failure the retry worker follows."""
    try:
        action_id = await proposer.propose(proposal_for(decision))
    except DomainError as exc:
        async with db.transaction() as session:
            await _postpone(session, decision, 1, exc, datetime.now(UTC))
        return decision
    async with db.transaction() as session:
        await _store(session, decision, action_id)
    return replace(decision, action_id=action_id)


async def deliver_pending_proposals(
    db: Database, proposer: Proposer, *, now: datetime | None = None, limit: int = PASS_LIMIT
) -> int:
    """One retry pass over due, undelivered proposals; returns how many were delivered. Ops
    unreachable ends the pass: the other due proposals stay due, untouched (no failure of
    theirs to audit), for the first pass after ops returns."""
    delivered = 0
    for _ in range(limit):
        async with db.transaction() as session:
            claimed = await decision_rows.claim_pending_proposal(session, now or datetime.now(UTC))
            if claimed is None:
                break
            decision, attempts = claimed
            try:
                action_id = await proposer.propose(proposal_for(decision))
            except DomainError as exc:
                await _postpone(session, decision, attempts + 1, exc, now or datetime.now(UTC))
                if isinstance(exc, Unavailable):
                    break
                continue
            await _store(session, decision, action_id)
            delivered += 1
    return delivered


async def record(
    session: AsyncSession,
    decision: Decision,
    action: str,
    payload: dict[str, object],
    outcome: str = "success",
) -> None:
    """An audit event about a decision, attributed to the rule set and version that made it."""
    target = f"decision/{decision.id}"
    await outbox.record(
        session, automation_actor(decision), action, target, payload, outcome=outcome
    )


def automation_actor(decision: Decision) -> dict[str, Any]:
    return automation(f"agent-triage/{decision.logic_name}", decision.logic_version)


async def _store(session: AsyncSession, decision: Decision, action_id: str) -> None:
    if await decision_rows.store_action_id(session, decision.id, action_id):
        payload = {**_payload(decision), "action_id": action_id}
        await record(session, decision, "agent.remediation.proposed", payload)


async def _postpone(
    session: AsyncSession, decision: Decision, attempts: int, error: DomainError, now: datetime
) -> None:
    # Exponential backoff, capped: a proposal ops keeps refusing is retried rarely, not dropped;
    # one that found ops down is retried within OUTAGE_RETRY_DELAY_S of ops returning.
    cap = OUTAGE_RETRY_DELAY_S if isinstance(error, Unavailable) else MAX_RETRY_DELAY_S
    delay = timedelta(seconds=Backoff(first_s=1.0, cap_s=cap, floor=1.0).wait(attempts))
    log.warning("proposal for decision %s failed (attempt %d): %s", decision.id, attempts, error)
    await decision_rows.postpone_proposal(
        session, decision.id, attempts=attempts, error=str(error), next_at=now + delay
    )
    payload = {**_payload(decision), "attempts": attempts, "error": str(error)}
    await record(session, decision, "agent.remediation.proposed", payload, outcome="failure")


def _payload(decision: Decision) -> dict[str, object]:
    assert decision.outcome.recommendation is not None
    recommendation = decision.outcome.recommendation
    return {
        "incident_id": decision.incident_id,
        "decision_id": decision.id,
        "source_ref": f"decision/{decision.id}",
        "kind": recommendation.action,
        "risk": recommendation.risk,
        "parameters": dict(recommendation.parameters),
        "requested_by": decision.requested_by,
    }
