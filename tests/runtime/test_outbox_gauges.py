"""Outbox lag: undelivered events are counted and the oldest one's age reported; delivered
ones are not."""

from __future__ import annotations

from sqlalchemy import text, update

from runtime.db import Database
from runtime.outbox import ANONYMOUS, record_event
from runtime.outbox_gauges import OutboxGauges
from services.ops.tables import outbox


async def test_pending_events_and_the_oldest_age_are_read(ops_db: Database) -> None:
    gauges = OutboxGauges(ops_db, outbox, "ops")
    async with ops_db.transaction() as session:
        # whatever earlier tests left undelivered does not count here
        await session.execute(update(outbox).values(delivered_at=text("now()")))
        for n in range(3):
            await record_event(
                session,
                outbox,
                source="ops",
                actor=ANONYMOUS,
                action="ops.test",
                target=f"t/{n}",
                payload={},
            )
        await session.execute(
            update(outbox)
            .where(outbox.c.delivered_at.is_(None))
            .values(created_at=text("now() - interval '90 seconds'"))
        )
    await gauges.refresh()
    assert gauges.pending == 3
    assert 89 <= gauges.oldest_age_s < 200

    async with ops_db.transaction() as session:
        await session.execute(update(outbox).values(delivered_at=text("now()")))
    await gauges.refresh()
    assert (gauges.pending, gauges.oldest_age_s) == (0, 0.0)
