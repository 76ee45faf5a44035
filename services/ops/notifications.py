"""The notification outbox: rows written in the same transaction as the escalation or reminder
that caused them, then POSTed to their webhook by `Delivery`, with exponential backoff and full
jitter until the destination answers 2xx. Rows are claimed with FOR UPDATE SKIP LOCKED, so any
number of replicas can deliver; delivery is at least once (a crash after the POST resends).

A destination the egress policy refuses (TRADEOPS_EGRESS_ALLOW) is given up at once: no retry
could pass it, so the row leaves the queue and the action's timeline and the audit log
(ops.action.notification_failed, outcome "failure") keep where it was going and why."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.backoff import Backoff
from runtime.db import Database
from runtime.egress import EgressPolicy, Refused
from runtime.outbox import automation
from services.ops import events, timeline, webhooks
from services.ops.timer_tables import notifications as table
from services.ops.webhooks import DeliveryFailed, Webhook

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 600.0
NAME = "ops-notifications"
ACTOR = automation(NAME, "1")
GAVE_UP = "ops.action.notification_failed"
DUE = "SELECT 1 FROM ops.notifications WHERE delivered_at IS NULL AND next_attempt_at <= %s LIMIT 1"


async def enqueue(
    session: AsyncSession, destinations: Iterable[str], body: dict[str, Any], now: datetime
) -> None:
    """One row per destination, inside the caller's transaction."""
    rows = [{"destination": d, "body": body, "next_attempt_at": now} for d in destinations]
    if rows:
        await session.execute(insert(table), rows)


class Delivery:
    def __init__(
        self,
        db: Database,
        hooks: Mapping[str, Webhook],
        *,
        egress: EgressPolicy,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll_s: float = 1.0,
        batch: int = 20,
        timeout_s: float = 5.0,
        base_backoff_s: float = 1.0,
        linger_s: float = 0.05,
    ) -> None:
        self._db, self._hooks, self._egress, self._clock = db, hooks, egress, clock
        self._poll_s, self._batch, self._timeout_s = poll_s, batch, timeout_s
        self._base_backoff_s, self._linger_s = base_backoff_s, linger_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Deliver now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=self._timeout_s) as client:
            while True:
                try:
                    delivered = await self.deliver_once(client)
                except Exception:
                    log.exception("notification delivery pass failed")
                    delivered = 0
                if not delivered:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_s)
                    self._wake.clear()
                    # Every commit wakes us: the wakes of a busy moment make one pass.
                    await asyncio.sleep(self._linger_s)

    async def deliver_once(self, client: httpx.AsyncClient) -> int:
        """POSTs one batch of due notifications; returns how many were delivered."""
        now = self._clock()
        if not await self._any_due(now):  # every commit wakes us; most wrote no notification
            return 0
        claim = (
            select(table)
            .where(table.c.delivered_at.is_(None), table.c.next_attempt_at <= now)
            .order_by(table.c.next_attempt_at, table.c.id)
            .limit(self._batch)
            .with_for_update(skip_locked=True)
        )
        async with self._db.transaction() as session:
            rows = (await session.execute(claim)).all()
            errors = await asyncio.gather(*(self._send(client, row, now) for row in rows))
            for row, error in zip(rows, errors, strict=True):
                await self._settle(session, row, error, now)
        return sum(1 for error in errors if error is None)

    async def _any_due(self, now: datetime) -> bool:
        async with self._db.read() as conn:
            return await (await conn.execute(DUE, (now,))).fetchone() is not None

    async def _send(
        self, client: httpx.AsyncClient, row: Row[Any], now: datetime
    ) -> Exception | None:
        """None when delivered; else DeliveryFailed (retried) or egress.Refused (given up)."""
        hook = self._hooks.get(row.destination)
        if hook is None:
            return DeliveryFailed(f"no webhook named {row.destination!r} in {webhooks.ENV}")
        try:
            await webhooks.post(client, hook, row.body, int(now.timestamp()), self._egress)
        except (DeliveryFailed, Refused) as exc:
            return exc
        return None

    async def _settle(
        self, session: AsyncSession, row: Row[Any], error: Exception | None, now: datetime
    ) -> None:
        if isinstance(error, Refused):
            await _give_up(session, row, f"webhook {row.destination}: {error}", now)
        else:
            await session.execute(self._outcome(row, None if error is None else str(error), now))

    def _outcome(self, row: Row[Any], error: str | None, now: datetime) -> Any:
        statement = update(table).where(table.c.id == row.id)
        if error is None:
            return statement.values(delivered_at=now, attempts=row.attempts + 1, last_error=None)
        # Exponential backoff with full jitter, so replicas and destinations do not lockstep.
        delay = Backoff(self._base_backoff_s, MAX_BACKOFF_S).wait(row.attempts)
        log.warning("notification %s to %s failed: %s", row.id, row.destination, error)
        return statement.values(
            attempts=row.attempts + 1,
            next_attempt_at=now + timedelta(seconds=delay),
            last_error=error[:2000],
        )


async def _give_up(session: AsyncSession, row: Row[Any], reason: str, now: datetime) -> None:
    """Settles a notification that will never be sent, on the action its body is about."""
    log.warning("notification %s to %s given up: %s", row.id, row.destination, reason)
    action_id = row.body["action_id"]
    details = {
        "destination": row.destination,
        "event": row.body.get("event", ""),
        "attempts": row.attempts + 1,
        "reason": reason,
    }
    await events.record(session, ACTOR, GAVE_UP, action_id, details, outcome="failure")
    await timeline.add(
        session,
        action_id=action_id,
        kind="notification",
        actor=NAME,
        machine=True,
        text=f"Notification to {row.destination} not sent, and never retried: {reason}",
        details=details,
        at=now,
    )
    await session.execute(delete(table).where(table.c.id == row.id))
