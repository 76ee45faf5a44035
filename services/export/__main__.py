"""Wiring of the export service process: `python -m services.export`.

Environment (beyond runtime.settings): TRADEOPS_EXPORT_SIGNING_KEY_FILE (PEM PKCS8 Ed25519
private key, default .tradeops/export-signing-key.pem), TRADEOPS_EXPORT_CREATE_DEV_KEY=1 (create
that file, mode 0600, when missing: development only), TRADEOPS_EXPORT_DESTINATIONS (see
services/export/destinations/config.py). TRADEOPS_EXPORT_STALE_AFTER_S (runtime.settings) is how
long an unfinished export may show no sign of life before the sweeper fails it."""

from __future__ import annotations

import dataclasses
import os
from functools import partial

from runtime.auth import Principal, ServiceIdentity
from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec
from runtime.idempotency import Idempotent
from runtime.outbox import refusal_recorder
from runtime.outbox_gauges import OutboxGauges
from runtime.relay import OutboxRelay
from runtime.service_main import run_service
from runtime.settings import ServiceSettings
from services.export.audit_reader import STREAM_DEADLINE_FACTOR, GrpcAuditReader
from services.export.compliance_report import GrpcComplianceResults
from services.export.delivery import DeliveryConfig, deliver, delivery_worker
from services.export.domain import Export, now
from services.export.evidence_reader import GrpcEvidence
from services.export.grpc_api import ExportServicer, spec
from services.export.reports import GrpcReports
from services.export.scheduled_runs import scheduled_creator
from services.export.schedules import schedule_worker
from services.export.service import Exporter
from services.export.signing import signer_from_env
from services.export.sweeper import stale_sweeper
from services.export.tables import idempotency_keys, outbox
from tradeops.agent.v1 import agent_service_pb2_grpc as agent_grpc
from tradeops.agent.v1 import compliance_service_pb2_grpc as compliance_grpc
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc


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
    ops = ops_grpc.OpsServiceStub(open_channel(settings.peers["ops"]))
    agent_channel = open_channel(settings.peers["agent"])  # also serves ComplianceService
    agent = agent_grpc.AgentServiceStub(agent_channel)
    reports = GrpcReports(ops, agent, timeout_s=settings.rpc_timeout_s)
    compliance = GrpcComplianceResults(
        compliance_grpc.ComplianceServiceStub(agent_channel), timeout_s=settings.rpc_timeout_s
    )
    evidence = GrpcEvidence(ops, agent, reader, reports, timeout_s=settings.rpc_timeout_s)
    delivery = DeliveryConfig.from_env(os.environ, settings.export_dir)
    exporter = Exporter(
        db,
        reader,
        reports,
        signer_from_env(os.environ),
        settings.export_dir,
        destinations=frozenset(delivery.destinations),
        deliver=partial(_deliver, db, delivery),
        compliance=compliance,
        evidence=evidence,
    )
    identity = ServiceIdentity(settings.auth, "export")
    servicer = ExportServicer(exporter, delivery, on_event=relay.wake)
    workers = [
        relay.run,
        OutboxGauges(db, outbox, "export").run,
        delivery_worker(db, delivery, now, on_event=relay.wake),
        schedule_worker(db, scheduled_creator(exporter, identity.token), now),
        stale_sweeper(
            db, settings.export_dir, settings.export_stale_after_s, now, on_event=relay.wake
        ),
    ]
    built = spec(servicer, workers=workers)
    return dataclasses.replace(
        built,
        on_refused=refusal_recorder(db, outbox, "export", relay.wake),
        # CreateExport also has its own client_key; the header works the same for REST callers.
        idempotent=Idempotent(db, idempotency_keys, KEYED, lookups=LOOKUPS),
    )


CREATE = "/tradeops.export.v1.ExportService/CreateExport"
# The key is the export's client_key, so the caller's own export made with it can be listed.
LOOKUPS = {CREATE: "GET /exports?client_key=<the key>, or ListExports with client_key"}


KEYED = frozenset(
    {
        CREATE,
        "/tradeops.export.v1.ExportService/PutSchedule",
    }
)


async def _deliver(
    db: Database, config: DeliveryConfig, export: Export, caller: Principal
) -> Export:
    return await deliver(db, config, export.id, export.destination, actor=caller, now=now())


if __name__ == "__main__":
    run_service("export", build)
