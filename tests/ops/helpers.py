"""Shared test helpers: a proposal, principals, a fixed clock, and the outbox events a test
wrote."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from runtime.auth import Principal
from runtime.db import Database
from services.ops.domain.actions import Action, Risk
from services.ops.service import proposals as service
from services.ops.service.proposals import Proposal
from services.ops.tables import outbox

AGENT = {"subject": "triage-agent", "logic_version": "1.4.0"}
AGENT_PRINCIPAL = Principal("svc:agent", frozenset({"service"}), owner="agent")
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def person(subject: str, *roles: str) -> Principal:
    return Principal(subject, frozenset(roles))


def later(seconds: float, start: datetime = NOW) -> datetime:
    return start + timedelta(seconds=seconds)


def proposal(risk: Risk = Risk.LOW, requested_by: str = "rita", **extra: Any) -> Proposal:
    return Proposal(
        kind=extra.pop("kind", "failover_market_data_feed"),
        risk=risk,
        requested_by=requested_by,
        source_ref=extra.pop("source_ref", f"decision/{uuid.uuid4()}"),
        parameters={"feed": "XNAS-ITCH", "to": "secondary"},
        rationale="feed latency above 50 ms for 3 minutes",
        proposed_by=AGENT,
        **extra,
    )


async def propose(db: Database, risk: Risk = Risk.LOW, now: datetime = NOW, **extra: Any) -> Action:
    """An action the agent proposed at `now`."""
    made = proposal(risk, **extra)
    return await service.propose(db, proposal=made, proposer=AGENT_PRINCIPAL, now=now)


async def events_for(db: Database, action_id: str) -> list[dict[str, Any]]:
    """The outbox events about one action, oldest first."""
    return await events_about(db, f"action/{action_id}")


async def events_about(db: Database, target: str) -> list[dict[str, Any]]:
    query = select(outbox.c.event).where(outbox.c.event["target"].astext == target)
    async with db.transaction() as session:
        return [row.event for row in (await session.execute(query.order_by(outbox.c.id))).all()]


def verbs(events: list[dict[str, Any]]) -> list[str]:
    return [e["action"] for e in events]


def payload(event: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(event["payload_json"])
    return loaded
