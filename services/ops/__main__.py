"""`python -m services.ops`: the ops gRPC service, its outbox relay and its durable timers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec, Worker
from runtime.idempotency import Idempotent
from runtime.outbox import refusal_recorder
from runtime.outbox_gauges import OutboxGauges
from runtime.relay import OutboxRelay
from runtime.service_main import run_service
from runtime.settings import ServiceSettings
from runtime.tokens import ServiceIdentity
from services.ops.domain.actions import Clock
from services.ops.grpc_api import servicer
from services.ops.settings import Settings
from services.ops.tables import idempotency_keys, outbox
from services.ops.workers import notifications
from services.ops.workers.metrics import MetricsGauges
from services.ops.workers.timers import timer_worker
from tradeops.audit.v1.audit_service_pb2_grpc import AuditServiceStub

# The RPCs that create something; votes and transitions are safe to retry as they are (a
# repeated vote or transition changes nothing and says why).
KEYED = frozenset(
    {
        "/tradeops.ops.v1.OpsService/ProposeAction",
        "/tradeops.ops.v1.OpsService/AddComment",
        "/tradeops.ops.v1.OpsService/PutPolicy",
        "/tradeops.ops.v1.OpsService/PutEscalationPolicy",
    }
)


def build(settings: ServiceSettings, db: Database) -> ServiceSpec:
    clock: Clock = lambda: datetime.now(UTC)  # noqa: E731
    relay = OutboxRelay(
        db,
        outbox,
        AuditServiceStub(open_channel(settings.peers["audit"], "audit")),
        ServiceIdentity(settings.auth, "ops"),
        poll_s=settings.outbox_poll_s,
        timeout_s=settings.rpc_timeout_s,
    )
    own = Settings.from_env()
    delivery = notifications.Delivery(
        db,
        own.webhooks,
        egress=own.egress,
        clock=clock,
        timeout_s=settings.rpc_timeout_s,
    )

    def wake() -> None:  # after commits: audit events and notifications go out now
        relay.wake()
        delivery.wake()

    gauges = MetricsGauges(db, clock)
    workers: list[Worker] = [
        relay.run,
        OutboxGauges(db, outbox, "ops").run,
        timer_worker(db, clock, wake),
        delivery.run,
        gauges.run,
    ]
    spec = servicer.spec(db, wake, workers=workers, clock=clock)
    return dataclasses.replace(
        spec,
        on_refused=refusal_recorder(db, outbox, "ops", relay.wake, settings.refusals),
        idempotent=Idempotent(db, idempotency_keys, KEYED),
    )


if __name__ == "__main__":
    run_service("ops", build)
