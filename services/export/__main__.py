"""Wiring of the export service process: `python -m services.export`.

Environment: runtime.settings, and the export service's own (settings.py: the signing key and
verify-keys files, the delivery destinations, the S3 bucket exports are kept in). With a bucket
that is missing or has no Object Lock the process refuses to start.
TRADEOPS_EXPORT_STALE_AFTER_S (runtime.settings) is how long an unfinished export may show no
sign of life before the sweeper fails it."""

from __future__ import annotations

import dataclasses
from functools import partial

from runtime.auth import Principal
from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec
from runtime.idempotency import Idempotent
from runtime.outbox import refusal_recorder
from runtime.outbox_gauges import OutboxGauges
from runtime.relay import OutboxRelay
from runtime.service_main import run_service
from runtime.settings import ServiceSettings
from runtime.tokens import ServiceIdentity
from services.export.clients.audit import STREAM_DEADLINE_FACTOR, GrpcAuditReader
from services.export.clients.compliance import GrpcComplianceResults
from services.export.clients.evidence import GrpcEvidence
from services.export.clients.reports import GrpcReports
from services.export.clients.store import DirectoryStore, ExportStore
from services.export.clients.store.s3 import S3Store
from services.export.domain.exports import Export, now
from services.export.grpc_api.servicer import ExportServicer, spec
from services.export.service.delivery.config import DeliveryConfig
from services.export.service.delivery.send import deliver
from services.export.service.exports import Exporter
from services.export.service.schedules.runs import scheduled_creator
from services.export.service.signing_key import load_pinned_keys, load_signer
from services.export.settings import Settings
from services.export.tables import idempotency_keys, outbox
from services.export.workers.delivery import delivery_worker
from services.export.workers.schedules import schedule_worker
from services.export.workers.sweeper import stale_sweeper
from tradeops.agent.v1 import agent_service_pb2_grpc as agent_grpc
from tradeops.agent.v1 import compliance_service_pb2_grpc as compliance_grpc
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

# The services a scheduled export reads from, under the token of the run's requester.
READS_FROM = ("audit", "ops", "agent")


def build(settings: ServiceSettings, db: Database) -> ServiceSpec:
    # One channel serves both directions of our traffic to the audit service: the relay appends
    # our events under our own identity, the reader streams records under the caller's.
    audit = audit_grpc.AuditServiceStub(open_channel(settings.peers["audit"], "audit"))
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
    ops = ops_grpc.OpsServiceStub(open_channel(settings.peers["ops"], "ops"))
    agent_channel = open_channel(settings.peers["agent"], "agent")  # also serves ComplianceService
    agent = agent_grpc.AgentServiceStub(agent_channel)
    reports = GrpcReports(ops, agent, timeout_s=settings.rpc_timeout_s)
    compliance = GrpcComplianceResults(
        compliance_grpc.ComplianceServiceStub(agent_channel), timeout_s=settings.rpc_timeout_s
    )
    evidence = GrpcEvidence(ops, agent, reader, reports, timeout_s=settings.rpc_timeout_s)
    own = Settings.from_env()
    signer = load_signer(own.signing_key_file, create_if_missing=own.create_dev_key)
    keys = load_pinned_keys(own.signing_key_file, own.verify_keys_file, signer)
    store: ExportStore = DirectoryStore(settings.export_dir)
    if own.s3 is not None:
        store = S3Store.open(own.s3, settings.export_dir, own.egress)
    delivery = DeliveryConfig.configured(own, settings.export_dir, keys, store)
    exporter = Exporter(
        db,
        reader,
        reports,
        signer,
        settings.export_dir,
        destinations=frozenset(delivery.destinations),
        deliver=partial(_deliver, db, delivery),
        compliance=compliance,
        evidence=evidence,
        store=store,
    )
    identity = ServiceIdentity(settings.auth, "export")
    servicer = ExportServicer(exporter, delivery, on_event=relay.wake)
    workers = [
        relay.run,
        OutboxGauges(db, outbox, "export").run,
        delivery_worker(db, delivery, now, on_event=relay.wake),
        schedule_worker(db, scheduled_creator(exporter, lambda: identity.token(*READS_FROM)), now),
        stale_sweeper(
            db,
            settings.export_dir,
            settings.export_stale_after_s,
            now,
            on_event=relay.wake,
            store=store,
        ),
    ]
    built = spec(servicer, workers=workers)
    return dataclasses.replace(
        built,
        on_refused=refusal_recorder(db, outbox, "export", relay.wake, settings.refusals),
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
