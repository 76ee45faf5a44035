"""OutboxRelay: delivers a service's pending outbox rows to the audit service in batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import grpc
from google.protobuf import json_format
from opentelemetry import trace
from sqlalchemy import Row, Table, func, select, update

from runtime.auth import ServiceIdentity
from runtime.db import Database
from runtime.telemetry import context_from_traceparent
from tradeops.audit.v1 import audit_service_pb2 as audit_pb2
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 30.0


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        table: Table,
        audit: audit_grpc.AuditServiceAsyncStub,
        identity: ServiceIdentity,
        *,
        batch: int = 200,
        poll_s: float = 0.5,
        timeout_s: float = 5.0,
    ) -> None:
        self._db, self._table, self._audit, self._identity = db, table, audit, identity
        self._batch, self._poll_s, self._timeout_s = batch, poll_s, timeout_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Deliver now instead of at the next poll (called after a use case commits)."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                delivered = await self.deliver_once()
            except Exception:
                log.exception("outbox relay pass failed")
                delivered = 0
            if not delivered:
                await self._idle()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_s)
        self._wake.clear()

    async def deliver_once(self) -> int:
        """Sends one batch of due rows; returns how many were confirmed by the audit service."""
        t = self._table
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    select(t.c.id, t.c.event, t.c.traceparent, t.c.attempts)
                    .where(t.c.delivered_at.is_(None), t.c.next_attempt_at <= func.now())
                    .order_by(t.c.id)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            ids = [row.id for row in rows]
            try:
                await self._send(rows)
            except grpc.aio.AioRpcError as exc:
                await session.execute(self._postpone(ids, rows[0].attempts, exc))
                return 0
            await session.execute(update(t).where(t.c.id.in_(ids)).values(delivered_at=func.now()))
            return len(rows)

    async def _send(self, rows: Sequence[Row[Any]]) -> None:
        events = [json_format.ParseDict(row.event, audit_pb2.AuditEvent()) for row in rows]
        tracer = trace.get_tracer(__name__)
        parent = context_from_traceparent(rows[0].traceparent)
        with tracer.start_as_current_span("outbox.deliver", context=parent) as span:
            span.set_attribute("outbox.batch_size", len(events))
            await self._audit.AppendEvents(
                audit_pb2.AppendEventsRequest(events=events),
                timeout=self._timeout_s,
                metadata=(("authorization", f"Bearer {self._identity.token()}"),),
            )

    def _postpone(self, ids: list[int], attempts: int, exc: grpc.aio.AioRpcError) -> Any:
        # Exponential backoff with full jitter, so replicas do not retry in lockstep.
        delay = random.uniform(0, min(MAX_BACKOFF_S, 0.5 * 2**attempts))
        log.warning("audit delivery failed (%s); retrying in %.1fs", exc.code(), delay)
        return (
            update(self._table)
            .where(self._table.c.id.in_(ids))
            .values(
                attempts=self._table.c.attempts + 1,
                next_attempt_at=func.now() + timedelta(seconds=delay),
                last_error=f"{exc.code().name}: {exc.details()}",
            )
        )
