"""The transactional outbox: a use case writes an audit event into its own schema's outbox table
in the same transaction as the change it describes; OutboxRelay later delivers pending rows to
the audit service (AppendEvents) and marks them delivered. Delivery is at least once (a crash
between the audit service's commit and ours resends the batch); the audit service de-duplicates
on event_id. Rows are claimed with FOR UPDATE SKIP LOCKED, so any number of replicas can relay."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.canonical import canonical_json
from runtime.db import Database
from runtime.refusal_hook import AggregatedRefusals
from runtime.refusals import DEFAULT_REFUSALS, OVERFLOW, RefusalSettings, Tally
from runtime.telemetry import current_trace_id, current_traceparent


def outbox_table(metadata: MetaData) -> Table:
    """The outbox every service owns, in its own schema (metadata.schema)."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
        Column("event", JSONB, nullable=False),
        Column("traceparent", Text, nullable=False, server_default=""),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column(
            "next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()
        ),
        Column("delivered_at", DateTime(timezone=True)),
        Column("last_error", Text),
        # The relay claims undelivered rows in id order, and this index holds them in that
        # order: a claim reads one batch (tests/ops/test_relay_claim_plan.py). On
        # next_attempt_at, the planner either walked it as a bitmap, visiting every row
        # delivered since the last vacuum (9,912 entries after 3,000 approvals: 1.7 ms a
        # claim, and growing), or took the primary key and filtered out every row ever
        # delivered.
        Index("ix_outbox_undelivered", "id", postgresql_where=text("delivered_at IS NULL")),
    )


def person(principal: Principal) -> dict[str, Any]:
    return {
        "subject": principal.subject,
        "roles": sorted(principal.roles),
        "kind": principal.kind,
        "logic_version": "",
        "desk": principal.desk,
    }


def automation(name: str, version: str) -> dict[str, Any]:
    return {"subject": name, "roles": [], "kind": "agent", "logic_version": version, "desk": ""}


async def record_event(
    session: AsyncSession,
    table: Table,
    *,
    source: str,
    actor: dict[str, Any],
    action: str,
    target: str,
    payload: dict[str, Any],
    outcome: str = "success",
) -> str:
    """Adds one audit event to the outbox inside the caller's transaction; returns its id."""
    row = outbox_row(
        source=source, actor=actor, action=action, target=target, payload=payload, outcome=outcome
    )
    await session.execute(insert(table).values(**row))
    return str(row["event_id"])


def outbox_row(
    *,
    source: str,
    actor: dict[str, Any],
    action: str,
    target: str,
    payload: dict[str, Any],
    outcome: str = "success",
) -> dict[str, Any]:
    """The outbox row (event_id, event, traceparent) of one new event, stamped now and with
    the current trace; for writers that insert rows themselves (several in one statement)."""
    event = new_event(
        source=source, actor=actor, action=action, target=target, payload=payload, outcome=outcome
    )
    return {"event_id": event["event_id"], "event": event, "traceparent": current_traceparent()}


def new_event(
    *,
    source: str,
    actor: dict[str, Any],
    action: str,
    target: str,
    payload: dict[str, Any],
    outcome: str = "success",
) -> dict[str, Any]:
    """One new event (event_body), with a fresh id, stamped now and with the current trace."""
    return event_body(
        event_id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        source=source,
        actor=actor,
        action=action,
        target=target,
        payload=payload,
        outcome=outcome,
        trace_id=current_trace_id(),
    )


def event_body(
    *,
    event_id: str,
    occurred_at: datetime,
    source: str,
    actor: dict[str, Any],
    action: str,
    target: str,
    payload: dict[str, Any],
    outcome: str,
    trace_id: str,
) -> dict[str, Any]:
    """An outbox row's event: the AuditEvent message in its proto3 JSON form."""
    return {
        "event_id": event_id,
        "occurred_at": occurred_at.isoformat(),
        "actor": actor,
        "action": action,
        "target": target,
        "outcome": outcome,
        "trace_id": trace_id,
        "payload_json": canonical_json(payload),
        "source": source,
    }


def refusal_recorder(
    db: Database,
    table: Table,
    source: str,
    then: Callable[[], None] = lambda: None,
    settings: RefusalSettings = DEFAULT_REFUSALS,
) -> AggregatedRefusals:
    """A guard hook writing refused calls to the service's outbox as denied events, per source
    and window (runtime.refusals); `then` runs after each commit (a relay's wake, so the event
    leaves at once)."""

    async def write(**event: Any) -> None:
        async with db.transaction() as session:
            await record_event(session, table, source=source, outcome="denied", **event)
        then()

    async def record(method: str, principal: Principal | None, reason: str) -> None:
        await write(
            actor=person(principal) if principal else ANONYMOUS,
            action=f"{source}.access.denied",
            target=f"rpc{method}",
            payload={"method": method, "reason": reason},
        )

    async def record_window(tally: Tally[Principal | None]) -> None:
        action, target, payload = tally.event(source, settings)
        await write(
            actor=refusal_actor(tally, source), action=action, target=target, payload=payload
        )

    return AggregatedRefusals(record, record_window, settings)


def refusal_actor(tally: Tally[Principal | None], source: str) -> dict[str, Any]:
    """Who a closed window's event names: the source's caller, or the process for the overflow."""
    if tally.source == OVERFLOW:
        return automation(source, "")
    return person(tally.actor) if tally.actor else ANONYMOUS


ANONYMOUS = {"subject": "anonymous", "roles": [], "kind": "person", "logic_version": "", "desk": ""}
