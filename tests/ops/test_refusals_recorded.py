"""Calls the shared guard refuses (no token, wrong role) become denied audit events."""

from __future__ import annotations

from sqlalchemy import select

from runtime.auth import Principal
from runtime.db import Database
from runtime.outbox import refusal_recorder
from services.ops.tables import outbox


async def test_a_refused_call_is_written_to_the_outbox_as_a_denied_event(
    ops_db: Database,
) -> None:
    record = refusal_recorder(ops_db, outbox, "ops")
    vera = Principal("vera", frozenset({"viewer"}))

    await record("/tradeops.ops.v1.OpsService/PutPolicy", vera, "vera lacks a role")
    await record("/tradeops.ops.v1.OpsService/GetAction", None, "missing bearer token")

    async with ops_db.transaction() as session:
        rows = (await session.execute(select(outbox.c.event).order_by(outbox.c.id))).all()
    events = [row.event for row in rows[-2:]]
    assert [(e["action"], e["outcome"], e["actor"]["subject"]) for e in events] == [
        ("ops.access.denied", "denied", "vera"),
        ("ops.access.denied", "denied", "anonymous"),
    ]
    assert events[0]["target"] == "rpc/tradeops.ops.v1.OpsService/PutPolicy"
