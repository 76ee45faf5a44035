"""Wiring of the export service process: `python -m services.export`."""

from __future__ import annotations

from runtime.auth import ServiceIdentity
from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec
from runtime.relay import OutboxRelay
from runtime.service_main import run_service
from runtime.settings import ServiceSettings
from services.export.audit_reader import STREAM_DEADLINE_FACTOR, GrpcAuditReader
from services.export.grpc_api import ExportServicer, spec
from services.export.tables import outbox
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc


def build(settings: ServiceSettings, db: Database) -> ServiceSpec:
    # One channel serves both directions of our traffic to the audit service: the relay appends
    # our events under our own identity, the reader streams records under the caller's.
    audit = audit_grpc.AuditServiceStub(open_channel(settings.peers["audit"]))
    relay = OutboxRelay(
        db,
        outbox,
        audit,
        ServiceIdentity(settings.auth, "export"),
        poll_s=settings.outbox_poll_s,
        timeout_s=settings.rpc_timeout_s,
    )
    reader = GrpcAuditReader(
        audit,
        timeout_s=settings.rpc_timeout_s,
        stream_timeout_s=settings.rpc_timeout_s * STREAM_DEADLINE_FACTOR,
    )
    servicer = ExportServicer(db, reader, settings.export_dir, on_event=relay.wake)
    return spec(servicer, workers=[relay.run])


if __name__ == "__main__":
    run_service("export", build)
