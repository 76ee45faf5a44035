"""Time-based checkpoints: the sequencer cuts one in a commit once enough records arrived; this
timer cuts one when records arrived but no commit came about since the cadence's every_ms."""

from __future__ import annotations

import asyncio
import logging
import time

from services.audit.log.service.sequencer import Sequencer

log = logging.getLogger(__name__)


async def run_timer(sequencer: Sequencer) -> None:
    pause = max(sequencer.checkpointer.cadence.every_ms / 2000, 0.05)
    while True:
        await asyncio.sleep(pause)
        if time.monotonic() - sequencer.committed_at < pause:
            continue  # a commit just checked the cadence; the head lock is better left free
        try:
            await sequencer.checkpoint_if_due()
        except Exception:
            log.exception("timed checkpoint failed; retrying on the next tick")
