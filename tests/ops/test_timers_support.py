"""Helpers shared by the timer, escalation and webhook tests (this module holds no tests): a
clock the test moves by hand, policies wired to an escalation policy, and what a test reads back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from runtime.auth import Principal
from runtime.db import Database
from services.ops.domain.actions import Action, Risk
from services.ops.domain.escalation import EscalationPolicy, Level
from services.ops.domain.policy import Policy
from services.ops.service import policies
from services.ops.service import proposals as service
from services.ops.service import timers as firing
from services.ops.service.escalation_policies import put_escalation_policy
from services.ops.tables import notifications, outbox
from tests.ops.helpers import AGENT

ADMIN = Principal("ada", frozenset({"admin"}))
AGENT_PRINCIPAL = Principal("svc:agent", frozenset({"service"}), owner="agent")


class FakeClock:
    """Starts at the real time, so timers other tests committed are not all due at once."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def ladder(policy_id: str, *, repeat_limit: int = 1, remind_s: int = 600) -> EscalationPolicy:
    """Level 1 after 5 min to Slack; level 2 10 min later to Teams, handed to the risk desk."""
    return EscalationPolicy(
        id=policy_id,
        levels=(
            Level(after_s=300, notify=("slack-ops",)),
            Level(after_s=600, notify=("teams-risk",), assign_team="risk-desk"),
        ),
        repeat_limit=repeat_limit,
        remind_before_expiry_s=remind_s,
    )


async def governed_kind(
    db: Database, escalation: EscalationPolicy, now: datetime, *, ttl_s: int = 3600
) -> str:
    """A fresh action kind whose approval policy escalates along `escalation`."""
    kind = f"drill_{uuid.uuid4().hex[:12]}"
    await put_escalation_policy(db, escalation, ADMIN, now)
    approval = Policy(
        id=f"policy-{kind}",
        action_kind=kind,
        pending_ttl_s=ttl_s,
        escalation_policy_id=escalation.id,
        change_reason="escalation drill",
    )
    await policies.put_policy(db, policy=approval, actor=ADMIN, now=now)
    return kind


async def propose(db: Database, kind: str, now: datetime) -> Action:
    proposal = service.Proposal(
        kind=kind,
        risk=Risk.LOW,
        requested_by="rita",
        source_ref=f"decision/{uuid.uuid4()}",
        parameters={"feed": "XNAS-ITCH", "to": "secondary"},
        rationale="feed latency above 50 ms for 3 minutes",
        proposed_by=AGENT,
    )
    return await service.propose(db, proposal=proposal, proposer=AGENT_PRINCIPAL, now=now)


async def tick(db: Database, clock: FakeClock, seconds: float = 0) -> int:
    """Advances the clock and runs one worker pass; returns how many timers it claimed."""
    return await firing.fire_due(db, clock.advance(seconds), firing.default_effects())


async def verbs(db: Database, action_id: str) -> list[str]:
    query = (
        select(outbox.c.event["action"].astext)
        .where(outbox.c.event["target"].astext == f"action/{action_id}")
        .order_by(outbox.c.id)
    )
    async with db.transaction() as session:
        return list((await session.execute(query)).scalars())


async def sent(db: Database, action_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(destination, body) of the notifications about one action, oldest first."""
    query = (
        select(notifications.c.destination, notifications.c.body)
        .where(notifications.c.body["action_id"].astext == action_id)
        .order_by(notifications.c.id)
    )
    async with db.transaction() as session:
        return [(row.destination, row.body) for row in (await session.execute(query)).all()]
