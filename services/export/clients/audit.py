"""Reads the audit log through the audit service's contract (AuditService.GetCheckpoint and
StreamRecordPages), on behalf of the exporting person: their own token is forwarded, so the audit
service authorizes and records the real caller, not this service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from runtime.auth import Principal
from runtime.clients import bearer
from runtime.errors import NotFound
from services.export.clients.audit_records import AuditPage
from services.export.clients.peers import call_peer, domain_error, message_dict
from services.export.domain.exports import Checkpoint
from tradeops.audit.v1 import audit_service_pb2 as audit_pb2
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc

# A stream may run much longer than one unary call; the deadline still bounds a stuck peer.
STREAM_DEADLINE_FACTOR = 60
LIST_PAGE = 500  # ListRecords' cap
T = TypeVar("T")


class GrpcAuditReader:
    def __init__(
        self, stub: audit_grpc.AuditServiceAsyncStub, *, timeout_s: float, stream_timeout_s: float
    ) -> None:
        self._stub, self._timeout_s, self._stream_timeout_s = stub, timeout_s, stream_timeout_s

    async def latest_checkpoint(self, caller: Principal) -> Checkpoint | None:
        request = audit_pb2.GetCheckpointRequest(tree_size=0)
        try:
            found = await self._call(self._stub.GetCheckpoint, request, caller, not_found=str)
        except NotFound:
            return None  # nothing signed yet
        return Checkpoint(found.tree_size, found.root_hash, found.note)

    async def inclusion_proof(self, seq: int, tree_size: int, caller: Principal) -> dict[str, Any]:
        request = audit_pb2.InclusionProofRequest(seq=seq, tree_size=tree_size)
        return message_dict(await self._call(self._stub.GetInclusionProof, request, caller))

    async def targeted(
        self, target: str, below: int, caller: Principal
    ) -> AsyncGenerator[audit_pb2.AuditRecord, None]:
        """The records whose target is `target` and seq < `below`, in seq order (ListRecords
        page by page)."""
        after = -1
        while True:
            request = audit_pb2.ListRecordsRequest(after_seq=after, limit=LIST_PAGE, target=target)
            page = await self._call(self._stub.ListRecords, request, caller)
            for record in page.records:
                if record.seq >= below:
                    return
                yield record
            if not page.records:
                return
            after = page.last_seq

    async def log_size(self, caller: Principal) -> int:
        """How many records the log holds now."""
        request = audit_pb2.ListRecordsRequest(after_seq=-1, limit=1)
        page = await self._call(self._stub.ListRecords, request, caller)
        return page.log_size

    async def _call(
        self,
        method: Callable[..., Awaitable[T]],
        request: Message,
        caller: Principal,
        not_found: Callable[[str], str] | None = None,
    ) -> T:
        return await call_peer(
            method, request, caller=caller, timeout_s=self._timeout_s, not_found=not_found
        )

    async def pages(
        self, from_seq: int, to_seq: int, caller: Principal
    ) -> AsyncGenerator[AuditPage, None]:
        """The records from_seq..to_seq (-1: to the end) in pages of consecutive records, as the
        audit service sends them (StreamRecordPages: many records per message)."""
        call = self._stub.StreamRecordPages(
            audit_pb2.StreamRecordsRequest(from_seq=from_seq, to_seq=to_seq),
            timeout=self._stream_timeout_s,
            metadata=bearer(caller.token),
        )
        try:
            async for page in call:
                yield AuditPage(page.records)
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from None
        finally:
            call.cancel()  # a no-op once the stream ended; stops it if the writer gave up

    async def records(
        self, from_seq: int, to_seq: int, caller: Principal
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        pages = self.pages(from_seq, to_seq, caller)
        async with contextlib.aclosing(pages):
            async for page in pages:
                for record in page.mappings():
                    yield record
