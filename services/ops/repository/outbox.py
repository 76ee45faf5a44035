"""Audit events into ops.outbox, inside the caller's transaction; the relay (runtime.relay)
sends them on to the audit service. One insert, in one place, for every ops writer: a use case
recording one event and the vote writing several at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from runtime.outbox import outbox_row
from services.ops.domain.events import SOURCE
from services.ops.repository.writes import Target, Write, run


def row(
    actor: dict[str, Any],
    verb: str,
    action_id: str,
    payload: dict[str, Any],
    outcome: str = "success",
    target: str = "",
) -> dict[str, Any]:
    """The outbox row (event_id, event, traceparent) of one event, stamped now and with the
    current trace; `target` defaults to the action."""
    return outbox_row(
        source=SOURCE,
        actor=actor,
        action=verb,
        target=target or f"action/{action_id}",
        payload=payload,
        outcome=outcome,
    )


def insert(rows: Sequence[dict[str, Any]]) -> Write:
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    params = [v for r in rows for v in (r["event_id"], Jsonb(r["event"]), r["traceparent"])]
    return f"INSERT INTO ops.outbox (event_id, event, traceparent) VALUES {values}", params


async def record(
    into: Target,
    actor: dict[str, Any],
    verb: str,
    action_id: str,
    payload: dict[str, Any],
    outcome: str = "success",
    target: str = "",
) -> None:
    """Adds one event to the outbox inside the caller's transaction."""
    await run(into, insert([row(actor, verb, action_id, payload, outcome, target)]))
