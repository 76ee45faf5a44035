"""Reads the audit log through the audit service's contract (AuditService.GetCheckpoint and
StreamRecords), on behalf of the exporting person: their own token is forwarded, so the audit
service authorizes and records the real caller, not this service."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict

from runtime.auth import Principal
from runtime.clients import bearer
from runtime.errors import (
    DomainError,
    InvalidArgument,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from services.export.domain import Checkpoint
from tradeops.audit.v1 import audit_service_pb2 as audit_pb2
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc

# A stream may run much longer than one unary call; the deadline still bounds a stuck peer.
STREAM_DEADLINE_FACTOR = 60

_CALLER_FAULTS: dict[grpc.StatusCode, type[DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
}


class GrpcAuditReader:
    def __init__(
        self, stub: audit_grpc.AuditServiceAsyncStub, *, timeout_s: float, stream_timeout_s: float
    ) -> None:
        self._stub, self._timeout_s, self._stream_timeout_s = stub, timeout_s, stream_timeout_s

    async def latest_checkpoint(self, caller: Principal) -> Checkpoint | None:
        try:
            found = await self._stub.GetCheckpoint(
                audit_pb2.GetCheckpointRequest(tree_size=0),
                timeout=self._timeout_s,
                metadata=bearer(caller.token),
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.NOT_FOUND:
                return None  # nothing signed yet
            raise _domain_error(exc) from None
        return Checkpoint(found.tree_size, found.root_hash, found.note)

    async def records(
        self, from_seq: int, to_seq: int, caller: Principal
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        call = self._stub.StreamRecords(
            audit_pb2.StreamRecordsRequest(from_seq=from_seq, to_seq=to_seq),
            timeout=self._stream_timeout_s,
            metadata=bearer(caller.token),
        )
        try:
            async for record in call:
                yield _as_dict(record)
        except grpc.aio.AioRpcError as exc:
            raise _domain_error(exc) from None
        finally:
            call.cancel()  # a no-op once the stream ended; stops it if the writer gave up


def _as_dict(record: audit_pb2.AuditRecord) -> dict[str, Any]:
    # Every field is printed, defaults included, so each line has the same keys (seq 0 too).
    return MessageToDict(
        record, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def _domain_error(exc: grpc.aio.AioRpcError) -> DomainError:
    code = exc.code()
    error = _CALLER_FAULTS.get(code, Unavailable)
    return error(f"reading from the audit service failed: {code.name}: {exc.details()}")
