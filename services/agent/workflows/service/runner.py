"""Runs due firings' steps: claim (attempt counted, lease set), run, then record the outcome
and its audit event in one transaction, only if the firing is still pending (a duplicate run
after a lease ran out records nothing twice). A failure is retried with exponential backoff
until the rule version's max_attempts, then the firing is FAILED with the reason."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.backoff import Backoff
from runtime.db import Database
from runtime.errors import InvalidArgument
from services.agent.workflows.clients.steps import PeerFailed, Permanent, Remote
from services.agent.workflows.domain.facts import render
from services.agent.workflows.domain.rules import DONE, FAILED, OPEN_INCIDENT, PENDING, Firing, Rule
from services.agent.workflows.repository import firings as firing_store
from services.agent.workflows.repository import rules as rule_store
from services.agent.workflows.service import events
from services.agent.workflows.service.incidents import open_incident

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
BATCH = 20


async def run_due(
    db: Database, remote: Remote, clock: Callable[[], datetime], backoff: Backoff
) -> int:
    """Runs up to BATCH due firings; returns how many it attempted."""
    async with db.transaction() as session:
        claimed = await firing_store.claim(session, clock(), LEASE, BATCH)
    for firing in claimed:
        await attempt(db, remote, firing, clock, backoff)
    return len(claimed)


async def attempt(
    db: Database, remote: Remote, firing: Firing, clock: Callable[[], datetime], backoff: Backoff
) -> None:
    async with db.transaction() as session:
        rule = await rule_store.at_version(session, firing.trigger_id, firing.trigger_version)
    assert rule is not None  # versions are never deleted
    try:
        params = render(dict(rule.parameters), firing.facts)
        if firing.step == OPEN_INCIDENT:
            await _local(db, rule, firing, params, clock)
            return
        created = await getattr(remote, firing.step)(rule, firing, params)
    except Exception as exc:  # any failure is the firing's to record, never the worker's
        await _failed(db, rule, firing, exc, clock(), backoff)
        return
    await _done(db, rule, firing, created, clock())


async def _local(
    db: Database,
    rule: Rule,
    firing: Firing,
    params: dict[str, object],
    clock: Callable[[], datetime],
) -> None:
    now = clock()
    async with db.transaction() as session:
        current = await firing_store.get(session, firing.id, lock=True)
        if current is None or current.state != PENDING:
            return
        created = await open_incident(session, rule, firing, dict(params), now)
        await _settle_done(session, rule, current, created, now)


async def _done(db: Database, rule: Rule, firing: Firing, created: str, now: datetime) -> None:
    async with db.transaction() as session:
        current = await firing_store.get(session, firing.id, lock=True)
        if current is not None and current.state == PENDING:
            await _settle_done(session, rule, current, created, now)


async def _settle_done(
    session: AsyncSession, rule: Rule, firing: Firing, created: str, now: datetime
) -> None:
    await firing_store.settle(session, firing.id, state=DONE, now=now, created=created)
    done = replace(firing, state=DONE, created=created, last_error="")
    await events.firing_outcome(session, rule, done)


async def _failed(
    db: Database, rule: Rule, firing: Firing, exc: Exception, now: datetime, backoff: Backoff
) -> None:
    reason = describe(exc)
    final = permanent(exc) or firing.attempts >= rule.max_attempts
    state = FAILED if final else PENDING
    log.warning(
        "trigger %s firing %s attempt %d failed: %s",
        rule.automation,
        firing.id,
        firing.attempts,
        reason,
    )
    async with db.transaction() as session:
        current = await firing_store.get(session, firing.id, lock=True)
        if current is None or current.state != PENDING:
            return
        due = None if final else now + timedelta(seconds=backoff.wait(current.attempts - 1))
        await firing_store.settle(
            session, firing.id, state=state, now=now, error=reason, next_attempt_at=due
        )
        await events.firing_outcome(session, rule, replace(current, state=state, last_error=reason))


def permanent(exc: Exception) -> bool:
    """Failures a retry cannot fix: a bad parameter (a fact the event lacks, a value the peer
    or the intake refuses) or an idempotent answer that will not change."""
    if isinstance(exc, PeerFailed):
        return exc.permanent
    return isinstance(exc, Permanent | InvalidArgument | ValueError)


def describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
