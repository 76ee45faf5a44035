"""The notification delivery worker, started by the process's __main__: a pass
(services.ops.service.notifications) whenever a commit wakes it, else every `poll_s`. Rows are
claimed with FOR UPDATE SKIP LOCKED, so any number of replicas can deliver."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx

from runtime.db import Database
from runtime.egress import EgressPolicy
from services.ops.clients import webhooks
from services.ops.service.notifications import deliver_due
from services.ops.settings import Webhook

log = logging.getLogger(__name__)


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
        send = functools.partial(webhooks.deliver, client, self._hooks, self._egress, now)
        return await deliver_due(
            self._db, send, now, batch=self._batch, base_backoff_s=self._base_backoff_s
        )
