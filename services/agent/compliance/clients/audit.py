"""Reads a time window of the audit log through AuditService, bounded by the latest signed
checkpoint so every record counted can be proved against it. Reading is itself audited by the
audit service; those read records land after the bound and are never counted."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc

from runtime.clients import bearer
from runtime.proto_time import timestamp as stamp
from services.agent.compliance.domain.figures import RecordView
from services.agent.compliance.domain.summaries import Bound
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

PAGE = 500


class AuditReader:
    def __init__(self, stub: pb_grpc.AuditServiceAsyncStub, token: str, timeout_s: float) -> None:
        self._stub, self._meta, self._timeout = stub, bearer(token), timeout_s

    async def bound(self) -> Bound:
        log_size = (await self._page(-1, None, None, limit=1)).log_size
        try:
            found = await self._stub.GetCheckpoint(
                pb.GetCheckpointRequest(tree_size=0), metadata=self._meta, timeout=self._timeout
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            return Bound(log_size, log_size=log_size)
        return Bound(found.tree_size, found.root_hash, found.key_id, log_size)

    async def records(self, since: datetime, until: datetime, bound: Bound) -> list[RecordView]:
        """Records with since <= occurred_at < until and seq < bound.size, in seq order."""
        found: list[RecordView] = []
        after = -1
        while True:
            page = await self._page(after, since, until, limit=PAGE)
            kept = [r for r in page.records if r.seq < bound.size]
            found.extend(view(r) for r in kept)
            if len(kept) < len(page.records) or not page.records:
                return found
            after = page.last_seq

    async def _page(
        self, after: int, since: datetime | None, until: datetime | None, *, limit: int
    ) -> pb.ListRecordsResponse:
        request = pb.ListRecordsRequest(after_seq=after, limit=limit)
        if since is not None:
            request.since.CopyFrom(stamp(since))
        if until is not None:
            request.until.CopyFrom(stamp(until))
        return await self._stub.ListRecords(request, metadata=self._meta, timeout=self._timeout)


def view(record: pb.AuditRecord) -> RecordView:
    event = record.event
    return RecordView(
        seq=record.seq,
        occurred_at=event.occurred_at.ToDatetime(tzinfo=UTC),
        actor=event.actor.subject,
        actor_kind=event.actor.kind,
        action=event.action,
        outcome=event.outcome,
        payload_json=event.payload_json,
    )
