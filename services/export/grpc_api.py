"""The ExportService servicer: messages to use cases and back, its RBAC table and ServiceSpec."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from runtime.auth import COMPLIANCE, current_principal
from runtime.db import Database
from runtime.grpc_server import ServiceSpec, Worker
from services.export import service
from services.export.domain import Export, ExportState
from services.export.service import AuditReader
from tradeops.export.v1 import export_service_pb2 as pb
from tradeops.export.v1 import export_service_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ExportService"].full_name
RBAC = {
    f"/{SERVICE_NAME}/CreateExport": COMPLIANCE,
    f"/{SERVICE_NAME}/GetExport": COMPLIANCE,
    f"/{SERVICE_NAME}/ListExports": COMPLIANCE,
}
_STATES = {
    ExportState.REQUESTED: pb.EXPORT_STATE_REQUESTED,
    ExportState.GENERATED: pb.EXPORT_STATE_GENERATED,
    ExportState.FAILED: pb.EXPORT_STATE_FAILED,
}
Context = grpc.aio.ServicerContext[Any, Any]


class ExportServicer(pb_grpc.ExportServiceServicer):
    def __init__(
        self,
        db: Database,
        audit_reader: AuditReader,
        export_dir: Path,
        on_event: Callable[[], None] = lambda: None,
    ) -> None:
        self._db, self._reader, self._dir, self._on_event = db, audit_reader, export_dir, on_event

    async def CreateExport(self, request: pb.CreateExportRequest, context: Context) -> pb.Export:
        try:
            export = await service.create_export(
                self._db,
                self._reader,
                kind=request.kind,
                from_seq=request.from_seq,
                to_seq=request.to_seq,
                caller=current_principal(),
                export_dir=self._dir,
            )
        finally:
            self._on_event()  # events may have committed even when the call raises
        return to_message(export)

    async def GetExport(self, request: pb.GetExportRequest, context: Context) -> pb.Export:
        return to_message(await service.get_export(self._db, request.id))

    async def ListExports(
        self, request: pb.ListExportsRequest, context: Context
    ) -> pb.ListExportsResponse:
        exports = await service.list_exports(self._db, limit=request.limit)
        return pb.ListExportsResponse(exports=[to_message(e) for e in exports])


def to_message(export: Export) -> pb.Export:
    created_at = Timestamp()
    created_at.FromDatetime(export.created_at)
    return pb.Export(
        id=export.id,
        kind=export.kind,
        state=_STATES[export.state],
        from_seq=export.from_seq,
        to_seq=export.to_seq,
        file_name=export.file_name,
        sha256=export.sha256,
        size_bytes=export.size_bytes,
        record_count=export.record_count,
        requested_by=export.requested_by,
        created_at=created_at,
        failure_reason=export.failure_reason,
        checkpoint_size=export.checkpoint_size,
        checkpoint_root=export.checkpoint_root,
        checkpoint_file=export.checkpoint_file,
    )


def spec(servicer: ExportServicer, workers: Sequence[Worker] = ()) -> ServiceSpec:
    return ServiceSpec(
        register=lambda server: pb_grpc.add_ExportServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
        workers=list(workers),
    )
