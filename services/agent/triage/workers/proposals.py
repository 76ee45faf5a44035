"""The proposal_retry worker: delivers the proposals ops could not take when their decision
was made (service.proposals holds one pass)."""

from __future__ import annotations

import asyncio
import logging

from runtime.db import Database
from services.agent.triage.domain.proposals import Proposer
from services.agent.triage.service.proposals import PASS_LIMIT, deliver_pending_proposals

log = logging.getLogger(__name__)


async def retry_forever(db: Database, proposer: Proposer, period_s: float) -> None:
    """The proposal_retry worker: a retry pass every period_s, straight on while passes come back
    full (a backlog left by an ops outage leaves at once); safe on any number of replicas."""
    while True:
        try:
            delivered = await deliver_pending_proposals(db, proposer)
        except Exception:
            log.exception("proposal retry pass failed")
            delivered = 0
        if delivered < PASS_LIMIT:
            await asyncio.sleep(period_s)
