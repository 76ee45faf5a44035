"""The trigger machinery over real pieces: the agent's rolled-back database, a real audit
service (its log emptied, checkpoints cut after every batch) fed by the agent's real outbox
relay, in-process TriggerService, and fake export and ops peers that record what they get."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from runtime.auth import SERVICE
from runtime.backoff import Backoff
from runtime.clients import bearer
from runtime.db import Database
from runtime.relay import OutboxRelay
from runtime.settings import AuthSettings
from services.agent.compliance.clients.peers import Peers
from services.agent.compliance.domain.checks import Limits
from services.agent.tables import outbox
from services.agent.workflows.clients.feed import AuditFeed, OpsActions
from services.agent.workflows.clients.steps import Remote
from services.agent.workflows.grpc_api import servicer as grpc_api
from services.agent.workflows.settings import Webhook, webhooks
from services.agent.workflows.workers.triggers import TriggerWorker
from services.audit.log.domain.checkpoints.cutting import Cadence
from services.audit.log.domain.records import GENESIS
from services.audit.log.grpc_api import servicer as audit_api
from services.audit.log.service.log import AuditLog
from tests.agent.compliance.conftest import Served, served
from tests.agent.workflows.peers import FakeExport, FakeOps, export_spec, ops_spec
from tests.agent.workflows.webhook_server import Receiver, webhook_receiver
from tests.audit.conftest import audit_admin_db, tamper
from tests.audit.logs import running_log
from tests.keys import identity_for
from tradeops.agent.v1 import trigger_service_pb2_grpc as pb_grpc
from tradeops.audit.v1 import audit_service_pb2 as audit_pb
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.common.v1 import common_pb2
from tradeops.export.v1 import export_service_pb2_grpc as export_grpc
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

__all__ = ["audit_admin_db", "served"]
READER = "svc:agent.triggers"
CLEAR = ("trigger_firings", "trigger_versions", "triggers", "trigger_cursors")


@pytest.fixture
async def quick_log(audit_admin_db: Database) -> AsyncIterator[AuditLog]:
    """An emptied audit log that signs a checkpoint after every batch."""
    await tamper(
        audit_admin_db,
        "DELETE FROM audit.payloads",
        "DELETE FROM audit.redactions",
        "DELETE FROM audit.records",
        "DELETE FROM audit.nodes",
        "DELETE FROM audit.checkpoints",
        f"UPDATE audit.head SET size = 0, last_hash = '{GENESIS}'",
    )
    async with running_log(audit_admin_db, cadence=Cadence(1, 20)) as log:
        yield log


@dataclass
class Harness:
    db: Database
    stub: pb_grpc.TriggerServiceAsyncStub
    audit: audit_grpc.AuditServiceAsyncStub
    worker: TriggerWorker
    relay: OutboxRelay
    export: FakeExport
    ops: FakeOps
    receiver: Receiver
    token_for: Callable[..., str]

    async def append(self, action: str, target: str, payload: dict[str, Any], **event: Any) -> str:
        """Appends one event to the audit log as the ops service would; returns its id."""
        message = audit_pb.AuditEvent(
            event_id=event.get("event_id") or str(uuid.uuid4()),
            action=action,
            target=target,
            outcome=event.get("outcome", "success"),
            payload_json=json.dumps(payload, sort_keys=True, separators=(",", ":")),
            source=event.get("source", "ops"),
            actor=common_pb2.Actor(subject=event.get("actor", "olga"), kind="person"),
        )
        message.occurred_at.FromDatetime(datetime.now(UTC))
        # As the service whose events these are: each service appends only its own source.
        writer = f"svc:{message.source.split('.')[0]}"
        await self.audit.AppendEvents(
            audit_pb.AppendEventsRequest(events=[message]),
            metadata=bearer(self.token_for(writer, SERVICE)),
            timeout=5,
        )
        return message.event_id

    async def relay_all(self) -> None:
        while await self.relay.deliver_once():
            pass

    async def records(self, action: str) -> list[audit_pb.AuditRecord]:
        reply = await self.audit.ListRecords(
            audit_pb.ListRecordsRequest(after_seq=-1, limit=500, action=action),
            metadata=bearer(self.token_for("carol", "compliance")),
            timeout=5,
        )
        return list(reply.records)

    def as_(self, subject: str, *roles: str) -> tuple[tuple[str, str], ...]:
        return bearer(self.token_for(subject, *roles))


@pytest.fixture
def receiver() -> Any:
    with webhook_receiver() as received:
        yield received


@pytest.fixture
async def harness(
    agent_db: Database,
    quick_log: AuditLog,
    served: Served,
    auth_settings: AuthSettings,
    token_for: Callable[..., str],
    receiver: Receiver,
    tmp_path: Path,
) -> AsyncIterator[Harness]:
    async with agent_db.transaction() as session:  # earlier tests' leftovers, undone at the end
        for table in CLEAR:
            await session.execute(text(f"DELETE FROM agent.{table}"))
        await session.execute(text("UPDATE agent.outbox SET delivered_at = now()"))
        # As if triggers had been running since the log began.
        await session.execute(
            text(
                "INSERT INTO agent.trigger_cursors (name, last_seq, idle_size, updated_at) "
                "VALUES ('audit', -1, -1, now())"
            )
        )
    audit = audit_grpc.AuditServiceStub(await served.channel_to(audit_api.spec(quick_log, [])))
    export, ops = FakeExport(), FakeOps()  # type: ignore[abstract]
    peers = Peers(
        ops=ops_grpc.OpsServiceStub(await served.channel_to(ops_spec(ops))),
        audit=audit,
        export=export_grpc.ExportServiceStub(await served.channel_to(export_spec(export))),
        timeout_s=5,
    )
    secret = tmp_path / "hook.secret"
    secret.write_text("webhook-test-secret-0123456789")
    hooks = webhooks(
        json.dumps([{"name": "desk-chat", "url": receiver.url, "secret_file": str(secret)}])
    )
    relay = OutboxRelay(agent_db, outbox, audit, identity_for("agent", auth_settings))
    async with httpx.AsyncClient(timeout=5) as http:
        worker = _worker(agent_db, peers, auth_settings, hooks, http)
        stub = pb_grpc.TriggerServiceStub(
            await served.channel_to(grpc_api.spec(agent_db, webhooks=list(hooks)))
        )
        yield Harness(agent_db, stub, audit, worker, relay, export, ops, receiver, token_for)


def _worker(
    db: Database,
    peers: Peers,
    auth: AuthSettings,
    hooks: dict[str, Webhook],
    http: httpx.AsyncClient,
) -> TriggerWorker:
    reader = identity_for("agent.triggers", auth)
    remote = Remote(
        db=db,
        peers=peers,
        token=lambda subject: reader.token_as(subject, "export", "ops", "audit", "agent"),
        limits=Limits(),
        webhooks=hooks,
        http=http,
        clock=lambda: datetime.now(UTC),
    )
    return TriggerWorker(
        db=db,
        feed=AuditFeed(peers.audit, lambda: reader.token("audit"), 5),
        action_facts=OpsActions(peers.ops, lambda: reader.token("ops"), 5).facts,
        remote=remote,
        reader=READER,
        clock=lambda: datetime.now(UTC),
        backoff=Backoff(0.0, 0.0),
        poll_s=0.05,
    )
