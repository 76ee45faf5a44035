"""The AuditService servicer: message -> use case -> message, and its RBAC table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from runtime.auth import ANYONE, COMPLIANCE, SERVICES, current_principal
from runtime.grpc_server import ServiceSpec, Worker
from runtime.proto_time import timestamp
from services.audit.log.grpc_api import messages
from services.audit.log.grpc_api.pages import record_pages
from services.audit.log.grpc_api.watch import WatchRpcs
from services.audit.log.service import proving, reading
from services.audit.log.service.log import AuditLog, append
from services.audit.log.service.redaction import redact
from services.audit.log.service.tail import Tail
from services.audit.log.service.verification import verify_log
from tradeops.audit.v1 import audit_service_pb2 as pb
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext[Any, Any]
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["AuditService"].full_name
_PREFIX = f"/{SERVICE_NAME}/"
READERS = ANYONE | SERVICES

RBAC = {
    f"{_PREFIX}AppendEvents": SERVICES,
    f"{_PREFIX}ListRecords": READERS,
    f"{_PREFIX}WatchRecords": READERS,
    f"{_PREFIX}StreamRecords": COMPLIANCE | SERVICES,
    f"{_PREFIX}StreamRecordPages": COMPLIANCE | SERVICES,
    f"{_PREFIX}VerifyChain": COMPLIANCE | SERVICES,
    f"{_PREFIX}GetInclusionProof": READERS,
    f"{_PREFIX}GetConsistencyProof": READERS,
    f"{_PREFIX}GetCheckpoint": READERS,
    f"{_PREFIX}ListPublicKeys": READERS,
    f"{_PREFIX}RedactPayload": COMPLIANCE,
}


class AuditServicer(WatchRpcs):
    def __init__(self, log: AuditLog, tail: Tail | None = None) -> None:
        self._log, self._tail = log, tail

    async def AppendEvents(
        self, request: pb.AppendEventsRequest, context: Context
    ) -> pb.AppendEventsResponse:
        events = [messages.event(index, message) for index, message in enumerate(request.events)]
        results = await append(self._log, events, current_principal())
        return pb.AppendEventsResponse(
            results=[
                pb.AppendResult(event_id=r.event_id, seq=r.seq, duplicate=r.duplicate)
                for r in results
            ]
        )

    async def ListRecords(
        self, request: pb.ListRecordsRequest, context: Context
    ) -> pb.ListRecordsResponse:
        page = await reading.list_records(
            self._log,
            caller=current_principal(),
            after_seq=request.after_seq,
            limit=request.limit,
            target=request.target,
            where=messages.query(request),
        )
        return pb.ListRecordsResponse(
            records=[messages.record(r) for r in page.records],
            last_seq=page.last_seq,
            log_size=page.log_size,
        )

    async def StreamRecords(
        self, request: pb.StreamRecordsRequest, context: Context
    ) -> AsyncIterator[pb.AuditRecord]:
        found = reading.stream(
            self._log, caller=current_principal(), from_seq=request.from_seq, to_seq=request.to_seq
        )
        async for record in found:
            yield messages.record(record)

    async def StreamRecordPages(
        self, request: pb.StreamRecordsRequest, context: Context
    ) -> AsyncIterator[pb.RecordPage]:
        found = record_pages(
            self._log, caller=current_principal(), from_seq=request.from_seq, to_seq=request.to_seq
        )
        async for page in found:
            yield page

    async def VerifyChain(
        self, request: pb.VerifyChainRequest, context: Context
    ) -> pb.VerifyChainResponse:
        verdict = await verify_log(self._log, caller=current_principal())
        return pb.VerifyChainResponse(
            ok=verdict.ok,
            checked=verdict.checked,
            first_bad_seq=verdict.first_bad_seq,
            reason=verdict.reason,
        )

    async def GetInclusionProof(
        self, request: pb.InclusionProofRequest, context: Context
    ) -> pb.InclusionProof:
        found = await proving.prove_inclusion(
            self._log, caller=current_principal(), seq=request.seq, tree_size=request.tree_size
        )
        return pb.InclusionProof(
            seq=found.seq,
            tree_size=found.tree_size,
            leaf_hash=found.leaf_hash.hex(),
            proof=[p.hex() for p in found.proof],
            root_hash=found.root.hex(),
            checkpoint=found.checkpoint,
        )

    async def GetConsistencyProof(
        self, request: pb.ConsistencyProofRequest, context: Context
    ) -> pb.ConsistencyProof:
        found = await proving.prove_consistency(
            self._log,
            caller=current_principal(),
            first_size=request.first_size,
            second_size=request.second_size,
        )
        return pb.ConsistencyProof(
            first_size=found.first_size,
            second_size=found.second_size,
            proof=[p.hex() for p in found.proof],
            first_root=found.first_root.hex(),
            second_root=found.second_root.hex(),
        )

    async def GetCheckpoint(
        self, request: pb.GetCheckpointRequest, context: Context
    ) -> pb.SignedCheckpoint:
        found = await proving.checkpoint(self._log, request.tree_size)
        return pb.SignedCheckpoint(
            tree_size=found.tree_size,
            root_hash=found.root_hex,
            key_id=found.key_id_hex,
            note=found.note,
            created_at=timestamp(found.created_at),
            origin=self._log.origin,
        )

    async def ListPublicKeys(
        self, request: pb.ListPublicKeysRequest, context: Context
    ) -> pb.ListPublicKeysResponse:
        keys = proving.public_keys(self._log)
        return pb.ListPublicKeysResponse(
            keys=[messages.public_key(k) for k in keys], origin=self._log.origin
        )

    async def RedactPayload(
        self, request: pb.RedactPayloadRequest, context: Context
    ) -> pb.AuditRecord:
        found = await redact(
            self._log, caller=current_principal(), seq=request.seq, reason=request.reason
        )
        return messages.record(found)


def spec(log: AuditLog, workers: list[Worker], tail: Tail | None = None) -> ServiceSpec:
    """Without a tail (and its worker among `workers`), WatchRecords is UNAVAILABLE."""
    servicer = AuditServicer(log, tail)
    return ServiceSpec(
        register=lambda server: pb_grpc.add_AuditServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
        workers=workers,
        drains=[] if tail is None else [tail.close],
    )
