"""The trigger worker of one agent replica: writes the shipped default rules once, then
repeatedly reads new audit events into firings and runs the due firings. Any number of
replicas may run it (firings are unique per event, steps are claimed with SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from runtime.backoff import Backoff
from runtime.db import Database
from runtime.settings import AuthSettings
from runtime.tokens import ServiceIdentity
from services.agent.compliance import Limits, Peers
from services.agent.workflows.clients.feed import AuditFeed, OpsActions
from services.agent.workflows.clients.steps import Remote
from services.agent.workflows.service import defaults, matching, runner
from services.agent.workflows.service.matching import ActionFacts, Feed
from services.agent.workflows.settings import Settings

log = logging.getLogger(__name__)
READER = "agent.triggers"  # the log is read as "svc:agent.triggers"
WEBHOOK_TIMEOUT_S = 10.0


@dataclass
class TriggerWorker:
    db: Database
    feed: Feed
    action_facts: ActionFacts
    remote: Remote
    reader: str  # the subject the feed reads the log as (its read records are skipped)
    clock: Callable[[], datetime]
    backoff: Backoff
    poll_s: float
    wake: Callable[[], None] = lambda: None  # the outbox relay's: firings' events leave at once
    _nudged: asyncio.Event = field(default_factory=asyncio.Event)

    def nudge(self) -> None:
        self._nudged.set()

    async def once(self) -> int:
        """One pass: new events to firings, then due firings run; returns firings attempted."""
        await matching.consume(
            self.db, self.feed, self.action_facts, reader=self.reader, now=self.clock
        )
        attempted = await runner.run_due(self.db, self.remote, self.clock, self.backoff)
        if attempted:
            self.wake()
        return attempted

    async def run_forever(self) -> None:
        ensured = False
        while True:
            try:
                if not ensured:
                    await defaults.ensure(self.db, self.clock)
                    ensured = True
                    self.wake()
                while await self.once():
                    pass
            except Exception:  # a peer down or a bad page must not stop the triggers
                log.exception("trigger pass failed; retrying")
            self._nudged.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), self.poll_s)


def trigger_worker(
    db: Database,
    peers: Peers,
    options: Settings,
    limits: Limits,
    *,
    auth: AuthSettings,
    timeout_s: float,
    clock: Callable[[], datetime],
    wake: Callable[[], None],
) -> TriggerWorker:
    """The worker as the agent process runs it: the log read as "svc:agent.triggers", each step
    run as its rule version with a short-lived service token minted in that name."""
    reader = ServiceIdentity(auth, READER)

    def token_as(subject: str) -> str:
        # What a step calls (export, a compliance run's sources), and what those read on.
        return reader.token_as(subject, "export", "ops", "audit", "agent")

    http = httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_S)
    return TriggerWorker(
        db=db,
        feed=AuditFeed(peers.audit, lambda: reader.token("audit"), timeout_s),
        action_facts=OpsActions(peers.ops, lambda: reader.token("ops"), timeout_s).facts,
        remote=Remote(db, peers, token_as, limits, options.webhooks, http, clock, options.egress),
        reader=f"svc:{READER}",
        clock=clock,
        backoff=Backoff(options.backoff_s, options.backoff_max_s, floor=1.0),
        poll_s=options.poll_s,
        wake=wake,
    )
