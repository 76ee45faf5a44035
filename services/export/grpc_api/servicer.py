"""The ExportService servicer: messages to use cases and back, its RBAC table and ServiceSpec."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import grpc

from runtime.auth import ANYONE, COMPLIANCE, SERVICES, current_principal
from runtime.grpc_server import ServiceSpec, Worker
from services.export.domain.exports import now
from services.export.grpc_api.messages import (
    STATE_VALUES,
    attempt_message,
    chunk_messages,
    export_message,
    export_request,
    key_message,
    optional_time,
    schedule_message,
    schedule_spec,
    verification_message,
)
from services.export.service import queries, reading
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.delivery.send import redeliver
from services.export.service.exports import Exporter, create_export
from services.export.service.schedules import editing as schedules
from services.export.service.verification.batch import verify_batch
from services.export.service.verification.fetch_back import verify_delivered
from tradeops.export.v1 import export_service_pb2 as pb
from tradeops.export.v1 import export_service_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ExportService"].full_name
_RBAC = {
    # Automation (the agent's triggers, issue 7) creates exports under a service identity.
    "CreateExport": COMPLIANCE | SERVICES,
    "GetExport": ANYONE,
    "ListExports": ANYONE | SERVICES,
    "VerifyExport": COMPLIANCE,
    "VerifyExports": COMPLIANCE,
    "RedeliverExport": COMPLIANCE,
    "ListAttempts": ANYONE,
    "PutSchedule": COMPLIANCE,
    "ListSchedules": ANYONE,
    "DeleteSchedule": COMPLIANCE,
    "ListPublicKeys": ANYONE | SERVICES,
    # An export's contents, not its listing: the roles that create and verify exports.
    "ReadExportFile": COMPLIANCE,
}
RBAC = {f"/{SERVICE_NAME}/{method}": roles for method, roles in _RBAC.items()}
Context = grpc.aio.ServicerContext[Any, Any]


class ExportServicer(pb_grpc.ExportServiceServicer):
    def __init__(
        self,
        exporter: Exporter,
        delivery_config: DeliveryConfig,
        on_event: Callable[[], None] = lambda: None,
    ) -> None:
        self._exporter, self._delivery, self._on_event = exporter, delivery_config, on_event
        self._db = exporter.db

    async def CreateExport(self, request: pb.CreateExportRequest, context: Context) -> pb.Export:
        try:
            export = await create_export(
                self._exporter, export_request(request), current_principal()
            )
        finally:
            self._on_event()  # events may have committed even when the call raises
        return export_message(export)

    async def GetExport(self, request: pb.GetExportRequest, context: Context) -> pb.Export:
        return export_message(await queries.get_export(self._db, request.id))

    async def ListExports(
        self, request: pb.ListExportsRequest, context: Context
    ) -> pb.ListExportsResponse:
        size = request.page.page_size if request.HasField("page") else request.limit
        page = await queries.list_exports(
            self._db,
            page_size=size,
            page_token=request.page.page_token,
            state=STATE_VALUES.get(request.state, ""),
            kind=request.kind,
            client_key=request.client_key,
            caller=current_principal().subject,
        )
        return pb.ListExportsResponse(
            exports=[export_message(e) for e in page.exports], next_page_token=page.next_token
        )

    async def ListPublicKeys(
        self, request: pb.ListPublicKeysRequest, context: Context
    ) -> pb.ListPublicKeysResponse:
        keys = queries.list_public_keys(self._delivery.keys)
        return pb.ListPublicKeysResponse(keys=[key_message(k) for k in keys])

    async def VerifyExport(
        self, request: pb.VerifyExportRequest, context: Context
    ) -> pb.Verification:
        try:
            verdict = await verify_delivered(
                self._db, self._delivery, request.id, actor=current_principal(), now=now()
            )
        finally:
            self._on_event()
        return verification_message(verdict)

    async def VerifyExports(
        self, request: pb.VerifyExportsRequest, context: Context
    ) -> pb.VerifyExportsResponse:
        try:
            verdicts = await verify_batch(
                self._db,
                self._delivery,
                ids=list(request.ids),
                since=optional_time(request, "since"),
                until=optional_time(request, "until"),
                actor=current_principal(),
                now=now(),
            )
        finally:
            self._on_event()
        return pb.VerifyExportsResponse(results=[verification_message(v) for v in verdicts])

    async def RedeliverExport(
        self, request: pb.RedeliverExportRequest, context: Context
    ) -> pb.Export:
        try:
            export = await redeliver(
                self._db,
                self._delivery,
                request.id,
                request.destination,
                actor=current_principal(),
                now=now(),
            )
        finally:
            self._on_event()
        return export_message(export)

    async def ListAttempts(
        self, request: pb.ListAttemptsRequest, context: Context
    ) -> pb.ListAttemptsResponse:
        found = await queries.list_attempts(self._db, request.id)
        return pb.ListAttemptsResponse(attempts=[attempt_message(a) for a in found])

    async def PutSchedule(self, request: pb.PutScheduleRequest, context: Context) -> pb.Schedule:
        try:
            schedule = await schedules.put_schedule(
                self._db,
                schedule_spec(request.schedule),
                actor=current_principal(),
                now=now(),
                destinations=frozenset(self._delivery.destinations),
            )
        finally:
            self._on_event()
        return schedule_message(schedule)

    async def ListSchedules(
        self, request: pb.ListSchedulesRequest, context: Context
    ) -> pb.ListSchedulesResponse:
        found = await schedules.list_schedules(self._db)
        return pb.ListSchedulesResponse(schedules=[schedule_message(s) for s in found])

    async def DeleteSchedule(
        self, request: pb.DeleteScheduleRequest, context: Context
    ) -> pb.DeleteScheduleResponse:
        try:
            await schedules.delete_schedule(self._db, request.id, actor=current_principal())
        finally:
            self._on_event()
        return pb.DeleteScheduleResponse()

    async def ReadExportFile(
        self, request: pb.ReadExportFileRequest, context: Context
    ) -> AsyncIterator[pb.FileChunk]:
        caller = current_principal()
        try:
            async with reading.checked_file(
                self._db, self._delivery, request.id, request.name, caller
            ) as file:
                self._on_event()  # the read is audited before its first byte
                data = reading.chunks(self._db, caller, file)
                async for message in chunk_messages(data, file.size_bytes, file.sha256):
                    yield message
        finally:
            self._on_event()


def spec(servicer: ExportServicer, workers: Sequence[Worker] = ()) -> ServiceSpec:
    return ServiceSpec(
        register=lambda server: pb_grpc.add_ExportServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        rbac=RBAC,
        workers=list(workers),
    )
