"""Many people voting on one action at the same instant, each on its own connection, committing
for real: exactly one decision, and every vote counted once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete

from runtime.db import Database
from runtime.errors import Conflict
from services.ops.domain.actions import State
from services.ops.domain.policy import Policy
from services.ops.service import policies
from services.ops.service import proposals as service
from services.ops.tables import actions, approval_policies, outbox, timeline, timers, votes
from tests.ops.helpers import AGENT_PRINCIPAL, events_for, person, proposal, verbs

VOTERS = 32
QUORUM = 10


@pytest.fixture
async def committed(db_urls: dict[str, str]) -> AsyncIterator[Database]:
    db = Database.connect(db_urls["ops"])
    try:
        yield db
    finally:
        await db.dispose()


async def _forget(db: Database, action_id: str, policy_id: str) -> None:
    """Removes what the test committed, so other tests (the relay's) never see it."""
    async with db.transaction() as session:
        await session.execute(
            delete(outbox).where(
                outbox.c.event["target"].astext.in_([f"action/{action_id}", f"policy/{policy_id}"])
            )
        )
        for table in (timers, timeline, votes):
            await session.execute(delete(table).where(table.c.action_id == action_id))
        await session.execute(delete(actions).where(actions.c.id == action_id))
        await session.execute(delete(approval_policies).where(approval_policies.c.id == policy_id))


async def _vote(url: str, action_id: str, voter: str, now: datetime) -> str:
    db = Database.connect(url)
    try:
        await service.approve(db, action_id=action_id, approver=person(voter, "ops"), now=now)
        return "counted"
    except Conflict:
        return "refused"
    finally:
        await db.dispose()


async def test_thirty_two_simultaneous_votes_make_exactly_one_decision(
    committed: Database, db_urls: dict[str, str]
) -> None:
    now, kind = datetime.now(UTC), f"drill_{uuid.uuid4().hex[:10]}"
    policy = Policy(
        id=f"policy-{kind}",
        action_kind=kind,
        approvals_required=QUORUM,
        rejections_to_reject=VOTERS,
        change_reason="concurrency drill",
    )
    await policies.put_policy(committed, policy=policy, actor=person("ada", "admin"), now=now)
    made = proposal(kind=kind, source_ref=f"drill/{uuid.uuid4()}")
    action = await service.propose(committed, proposal=made, proposer=AGENT_PRINCIPAL, now=now)
    try:
        results = await asyncio.gather(
            *(_vote(db_urls["ops"], action.id, f"voter-{i}", now) for i in range(VOTERS))
        )
        assert results.count("counted") == QUORUM
        assert results.count("refused") == VOTERS - QUORUM
        final = await service.get(committed, action_id=action.id)
        assert final.state is State.APPROVED
        assert final.approvals == QUORUM
        assert len(final.votes) == QUORUM
        events = await events_for(committed, action.id)
        decisions = [
            v for v in verbs(events) if v in ("ops.action.approved", "ops.action.rejected")
        ]
        assert decisions == ["ops.action.approved"]
        outcomes = [e["outcome"] for e in events if e["action"] == "ops.action.vote_recorded"]
        assert (outcomes.count("success"), outcomes.count("denied")) == (QUORUM, VOTERS - QUORUM)
    finally:
        await _forget(committed, action.id, policy.id)
