"""Shared test helpers: a proposal, and the outbox events a test wrote."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from runtime.db import Database
from services.ops.domain import Risk
from services.ops.service import Proposal
from services.ops.tables import outbox

AGENT = {"subject": "triage-agent", "logic_version": "1.4.0"}


def proposal(risk: Risk = Risk.LOW, requested_by: str = "rita", **extra: Any) -> Proposal:
    return Proposal(
        kind="failover_market_data_feed",
        risk=risk,
        requested_by=requested_by,
        source_ref=extra.pop("source_ref", f"decision/{uuid.uuid4()}"),
        parameters={"feed": "XNAS-ITCH", "to": "secondary"},
        rationale="feed latency above 50 ms for 3 minutes",
        proposed_by=AGENT,
        **extra,
    )


async def events_for(db: Database, action_id: str) -> list[dict[str, Any]]:
    """The outbox events about one action, oldest first."""
    query = (
        select(outbox.c.event)
        .where(outbox.c.event["target"].astext == f"action/{action_id}")
        .order_by(outbox.c.id)
    )
    async with db.transaction() as session:
        return [row.event for row in (await session.execute(query)).all()]
