"""The exporter's side of the audit gRPC contract: every call carries the bearer token and a
deadline; records come in bounded streams and proofs with a bounded number in flight. Records
are read back from their messages as the log's Records (the server always sets occurred_at,
within Timestamp's range), so their hashes can be checked as the log checks them."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta

from runtime.clients import bearer
from services.audit.log import Actor, Event, PublicKey, Record
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

# Records per StreamRecords call, so one deadline bounds each call without bounding the export.
STREAM_CHUNK = 5000
PROOFS_IN_FLIGHT = 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class AuditReader:
    def __init__(self, stub: pb_grpc.AuditServiceAsyncStub, token: str, timeout_s: float) -> None:
        self._stub, self._metadata, self._timeout = stub, bearer(token), timeout_s

    async def checkpoint(self) -> pb.SignedCheckpoint:
        request = pb.GetCheckpointRequest(tree_size=0)
        return await self._stub.GetCheckpoint(
            request, metadata=self._metadata, timeout=self._timeout
        )

    async def keys(self) -> list[PublicKey]:
        request = pb.ListPublicKeysRequest()
        found = await self._stub.ListPublicKeys(
            request, metadata=self._metadata, timeout=self._timeout
        )
        return [_public_key(key) for key in found.keys]

    async def records(self, first: int, last: int) -> AsyncIterator[Record]:
        for start in range(first, last + 1, STREAM_CHUNK):
            end = min(start + STREAM_CHUNK - 1, last)
            request = pb.StreamRecordsRequest(from_seq=start, to_seq=end)
            call = self._stub.StreamRecords(request, metadata=self._metadata, timeout=self._timeout)
            try:
                async for message in call:
                    yield _record(message)
            finally:
                call.cancel()  # a no-op once the stream ended; stops it if the writer gave up

    async def proofs(self, seqs: Iterable[int], size: int) -> AsyncIterator[pb.InclusionProof]:
        """Inclusion proofs in the order of `seqs`, at most PROOFS_IN_FLIGHT requested at once."""
        pending: deque[asyncio.Task[pb.InclusionProof]] = deque()
        try:
            for seq in seqs:
                pending.append(asyncio.create_task(self._proof(seq, size)))
                if len(pending) >= PROOFS_IN_FLIGHT:
                    yield await pending.popleft()
            while pending:
                yield await pending.popleft()
        finally:
            for task in pending:
                task.cancel()
            # Collects what the abandoned calls raised, so nothing is reported as unretrieved.
            await asyncio.gather(*pending, return_exceptions=True)

    async def _proof(self, seq: int, size: int) -> pb.InclusionProof:
        request = pb.InclusionProofRequest(seq=seq, tree_size=size)
        return await self._stub.GetInclusionProof(
            request, metadata=self._metadata, timeout=self._timeout
        )


def _record(message: pb.AuditRecord) -> Record:
    hashes = (message.payload_sha256, message.prev_hash, message.leaf_hash)
    return Record(message.seq, _event(message.event), *hashes)


def _event(message: pb.AuditEvent) -> Event:
    actor = message.actor
    return Event(
        event_id=message.event_id,
        occurred_at=_EPOCH
        + timedelta(0, message.occurred_at.seconds, message.occurred_at.nanos // 1000),
        actor=Actor(actor.subject, tuple(actor.roles), actor.kind, actor.logic_version, actor.desk),
        action=message.action,
        target=message.target,
        outcome=message.outcome,
        trace_id=message.trace_id,
        source=message.source,
        payload_json=message.payload_json,
    )


def _public_key(key: pb.PublicKey) -> PublicKey:
    until = None if key.until_size < 0 else key.until_size
    return PublicKey(key.name, key.key_id, key.vkey, key.from_size, until)
