"""`python -m services.ops`: the ops gRPC service and its outbox relay."""

from __future__ import annotations

from runtime.auth import ServiceIdentity
from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec
from runtime.relay import OutboxRelay
from runtime.service_main import run_service
from runtime.settings import ServiceSettings
from services.ops import grpc_api
from services.ops.tables import outbox
from tradeops.audit.v1.audit_service_pb2_grpc import AuditServiceStub


def build(settings: ServiceSettings, db: Database) -> ServiceSpec:
    relay = OutboxRelay(
        db,
        outbox,
        AuditServiceStub(open_channel(settings.peers["audit"])),
        ServiceIdentity(settings.auth, "ops"),
        poll_s=settings.outbox_poll_s,
        timeout_s=settings.rpc_timeout_s,
    )
    return grpc_api.spec(db, relay.wake, workers=[relay.run])


if __name__ == "__main__":
    run_service("ops", build)
