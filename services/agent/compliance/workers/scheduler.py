"""The scheduler worker: creates the default schedule once, then polls for a due schedule and
runs it (service/schedules.py), every TRADEOPS_AGENT_COMPLIANCE_POLL_S."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from runtime.db import Database
from services.agent.compliance.domain.checks import Limits, Sources
from services.agent.compliance.domain.schedules import Schedule
from services.agent.compliance.service.runs import Clock
from services.agent.compliance.service.schedules import ensure, run_due

log = logging.getLogger(__name__)


async def run_forever(
    db: Database,
    sources: Callable[[], Sources],
    clock: Clock,
    *,
    limits: Limits,
    schedule: Schedule,
    poll_s: float,
    wake: Callable[[], None] = lambda: None,
) -> None:
    """The worker: creates the default schedule once, then polls for due schedules."""
    await ensure(db, schedule, clock())
    while True:
        try:
            if await run_due(db, sources, clock, limits):
                wake()  # its audit events are in the outbox
        except Exception:  # a failed run must not stop the schedule
            log.exception("scheduled compliance run failed")
        await asyncio.sleep(poll_s)
