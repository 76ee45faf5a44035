"""How the agent process serves TriggerService and runs the trigger worker; see WIRING.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from runtime.auth import SERVICE, ServiceIdentity, mint_token
from runtime.backoff import Backoff
from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec
from runtime.settings import ServiceSettings
from services.agent.compliance.clients.peers import Peers
from services.agent.compliance.settings import Settings
from services.agent.workflows import grpc_api
from services.agent.workflows.feed import AuditFeed, OpsActions
from services.agent.workflows.settings import TriggerSettings
from services.agent.workflows.steps import Remote
from services.agent.workflows.worker import TriggerWorker
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.export.v1 import export_service_pb2_grpc as export_grpc
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

READER = "agent.triggers"  # the log is read as "svc:agent.triggers"
WEBHOOK_TIMEOUT_S = 10.0


def now() -> datetime:
    return datetime.now(UTC)


def trigger_spec(
    settings: ServiceSettings,
    db: Database,
    *,
    wake: Callable[[], None],
    options: TriggerSettings | None = None,
) -> ServiceSpec:
    """TriggerService with its worker; merge it into the agent's ServiceSpec."""
    options = options or TriggerSettings.from_env()
    peers = Peers(
        ops=ops_grpc.OpsServiceStub(open_channel(settings.peers["ops"])),
        audit=audit_grpc.AuditServiceStub(open_channel(settings.peers["audit"])),
        export=export_grpc.ExportServiceStub(open_channel(settings.peers["export"])),
        timeout_s=settings.rpc_timeout_s,
    )
    reader = ServiceIdentity(settings.auth, READER)

    def token_as(subject: str) -> str:
        return mint_token(settings.auth, subject, [SERVICE], ttl_s=300)

    remote = Remote(
        db=db,
        peers=peers,
        token=token_as,
        limits=Settings.from_env().limits,
        webhooks=options.webhooks,
        http=httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_S),
        clock=now,
        egress=options.egress,
    )
    worker = TriggerWorker(
        db=db,
        feed=AuditFeed(peers.audit, reader.token, settings.rpc_timeout_s),
        action_facts=OpsActions(peers.ops, reader.token, settings.rpc_timeout_s).facts,
        remote=remote,
        reader=f"svc:{READER}",
        clock=now,
        backoff=Backoff(options.backoff_s, options.backoff_max_s, floor=1.0),
        poll_s=options.poll_s,
        wake=wake,
    )

    def woken() -> None:  # a rule change is picked up at once
        wake()
        worker.nudge()

    return grpc_api.spec(
        db,
        webhooks=list(options.webhooks),
        clock=now,
        wake=woken,
        workers=[worker.run_forever],
    )
