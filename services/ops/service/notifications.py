"""Delivering queued notifications: one pass claims a batch, has each sent (by the caller's
`send`, services.ops.clients.webhooks in production) and settles it in the same transaction,
with exponential backoff and full jitter until the destination answers 2xx. Delivery is at
least once: a crash after the POST resends.

A destination the egress policy refuses (TRADEOPS_EGRESS_ALLOW) is given up at once: no retry
could pass it, so the row leaves the queue and the action's timeline and the audit log
(ops.action.notification_failed, outcome "failure") keep where it was going and why."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.backoff import Backoff
from runtime.db import Database
from runtime.egress import Refused
from runtime.outbox import automation
from services.ops.domain.notifications import GAVE_UP, NAME, Notification, given_up
from services.ops.repository import notifications, outbox, timeline

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 600.0
ACTOR = automation(NAME, "1")
# None when delivered; else why not: egress.Refused (given up) or any other error (retried).
Send = Callable[[Notification], Awaitable[Exception | None]]


async def deliver_due(
    db: Database, send: Send, now: datetime, *, batch: int, base_backoff_s: float
) -> int:
    """Sends one batch of due notifications; returns how many were delivered."""
    if not await notifications.any_due(db, now):  # every commit wakes delivery; most wrote none
        return 0
    async with db.transaction() as session:
        due = await notifications.claim(session, now, batch)
        errors = await asyncio.gather(*(send(note) for note in due))
        for note, error in zip(due, errors, strict=True):
            await _settle(session, note, error, now, Backoff(base_backoff_s, MAX_BACKOFF_S))
    return sum(1 for error in errors if error is None)


async def _settle(
    session: AsyncSession,
    note: Notification,
    error: Exception | None,
    now: datetime,
    backoff: Backoff,
) -> None:
    if error is None:
        await notifications.delivered(session, note.id, now)
    elif isinstance(error, Refused):
        await _give_up(session, note, f"webhook {note.destination}: {error}", now)
    else:
        # Full jitter, so replicas and destinations do not lockstep.
        delay = backoff.wait(note.attempts)
        log.warning("notification %s to %s failed: %s", note.id, note.destination, error)
        await notifications.later(session, note.id, now + timedelta(seconds=delay), str(error))


async def _give_up(session: AsyncSession, note: Notification, reason: str, now: datetime) -> None:
    """Settles a notification that will never be sent, on the action its body is about."""
    log.warning("notification %s to %s given up: %s", note.id, note.destination, reason)
    action_id = note.body["action_id"]
    details = given_up(note, reason)
    await outbox.record(session, ACTOR, GAVE_UP, action_id, details, outcome="failure")
    await timeline.add(
        session,
        action_id=action_id,
        kind="notification",
        actor=NAME,
        machine=True,
        text=f"Notification to {note.destination} not sent, and never retried: {reason}",
        details=details,
        at=now,
    )
    await notifications.remove(session, note.id)
