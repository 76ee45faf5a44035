"""The forwarding worker of one destination, at least once: read after the durable cursor,
send, and move the cursor only to what the link confirms (up to the failure, when one comes,
if the receiver acknowledges: a TCP/TLS link that failed confirms nothing).
Any failure (receiver, collector or database) closes the link, waits a jittered backoff and
starts again from the cursor, so what was sent but not confirmed is sent again. Nothing is
buffered in memory: a slow destination just lags behind the log. `forwarders` gives the
process one per configured destination, sharing one lag gauge."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from runtime.backoff import Backoff
from runtime.db import Database
from runtime.egress import DEFAULT, EgressPolicy
from runtime.grpc_server import Worker
from services.audit.siem.clients.formats import formatter_for
from services.audit.siem.clients.links import Link, link_for
from services.audit.siem.domain.batches import Batch, Position
from services.audit.siem.repository.claims import AdvisoryClaim
from services.audit.siem.service import forwarding
from services.audit.siem.settings import Destination
from services.audit.siem.workers.lag import LagBoard, register_gauge

log = logging.getLogger(__name__)
FIRST_RETRY_S = 0.1  # doubling up to the destination's backoff_cap_s, full jitter
STANDBY_POLLS = 5  # a replica without the claim retries it every poll_s * STANDBY_POLLS


class Forwarder:
    def __init__(
        self,
        db: Database,
        destination: Destination,
        board: LagBoard,
        egress: EgressPolicy = DEFAULT,
    ) -> None:
        if db.engine is None:
            raise ValueError("SIEM forwarding needs a Database with an engine of its own")
        self._db, self._destination, self._board = db, destination, board
        self._egress = egress  # judged again at every connection, on the resolved addresses
        self._format = formatter_for(destination)
        self._claim = AdvisoryClaim(db.engine, destination.name)
        self._backoff = Backoff(FIRST_RETRY_S, destination.backoff_cap_s)
        self._failures = 0  # in a row, since the last confirmed record

    async def run(self) -> None:
        """Forwards until cancelled (a ServiceSpec worker); never returns otherwise."""
        try:
            while True:
                await self._attempt()
        finally:
            await self._claim.release()

    async def _attempt(self) -> None:
        try:
            if await self._claim.acquire():
                await self._serve()
            else:
                await asyncio.sleep(self._destination.poll_s * STANDBY_POLLS)
        except Exception as exc:
            delay = self._backoff.wait(self._failures)
            self._failures += 1
            log.warning("siem %s: %s; retrying in %.2f s", self._destination.name, exc, delay)
            await asyncio.sleep(delay)

    async def _serve(self) -> None:
        link = link_for(self._destination, self._egress)
        try:
            await link.open()
            await self._forward(link)
        finally:
            await link.close()

    async def _forward(self, link: Link) -> None:
        name = self._destination.name
        confirmed = sent = await forwarding.confirmed(self._db, name)
        try:
            while await self._claim.held():
                batch = await forwarding.next_batch(self._db, sent, self._destination.batch_size)
                if batch:
                    await link.send(self._messages(batch), batch.marks())
                    sent = batch.end
                confirmed = await self._confirm(link, confirmed)
                self._board.set(name, batch.head_size - 1 - confirmed.seq)
                if not batch:
                    await asyncio.sleep(self._destination.poll_s)
        except Exception:
            # What an acknowledging receiver (RELP, HTTP) answered before the failure still
            # moves the cursor, so that less is sent twice. Over TCP/TLS only time confirms, and
            # a stalled receiver looks healthy until drain() gives up: what went out earlier may
            # still sit in our send buffer, so that link confirms nothing once it failed.
            if link.acknowledges:
                with contextlib.suppress(Exception):
                    await self._confirm(link, confirmed)
            raise

    async def _confirm(self, link: Link, confirmed: Position) -> Position:
        settled = link.confirmed()
        if settled is None:
            return confirmed
        await forwarding.confirm(self._db, self._destination.name, settled)
        self._failures = 0
        return settled

    def _messages(self, batch: Batch) -> list[bytes]:
        records = [self._format.record(record) for record in batch.records]
        return records + [self._format.checkpoint(signed) for signed in batch.checkpoints]


def forwarders(
    db: Database, destinations: Sequence[Destination], egress: EgressPolicy = DEFAULT
) -> list[Worker]:
    if not destinations:
        return []
    board = LagBoard()
    register_gauge(board)
    return [Forwarder(db, destination, board, egress).run for destination in destinations]
