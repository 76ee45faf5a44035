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

from runtime.backoff import Backoff
from runtime.db import Database
from services.agent.workflows import consumer, defaults, runner
from services.agent.workflows.consumer import ActionFacts, Feed
from services.agent.workflows.steps import Remote

log = logging.getLogger(__name__)


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
        await consumer.consume(
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
