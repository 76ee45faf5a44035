"""The three workflow steps that call out of this transaction (open_incident is local:
service/incidents.py). Each is idempotent on the firing id: the export's client_key, the
webhook's X-Tradeops-Delivery header, and the compliance run recorded once per attempt.
Everything is done as the rule version's own identity, "trigger:<name>@v<version>", for the
rule's author (Rule.requester): the export and the compliance run are requested by them. A
peer's gRPC failure becomes PeerFailed, so the runner judges it without knowing gRPC."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc
import httpx
from google.protobuf import struct_pb2

from runtime.clients import bearer
from runtime.db import Database
from runtime.egress import DEFAULT, EgressPolicy, Refused
from runtime.pinning import send
from runtime.webhook_signing import signed_headers
from services.agent.compliance import GrpcSources, Limits, Peers, Requester, run_checks
from services.agent.workflows.domain.rules import Firing, Rule, rule_actor
from services.agent.workflows.settings import Webhook
from tradeops.export.v1 import export_service_pb2 as export_pb

Token = Callable[[str], str]  # automation subject -> a service token in its name
FAILED_EXPORT = export_pb.ExportState.Value("EXPORT_STATE_FAILED")


class Permanent(Exception):
    """A failure retrying cannot fix (the step's idempotent answer will not change)."""


class PeerFailed(Exception):
    """A peer's gRPC failure, "CODE: details"; permanent when the peer refused the argument."""

    def __init__(self, code: grpc.StatusCode, details: str | None) -> None:
        super().__init__(f"{code.name}: {details}")
        self.permanent = code == grpc.StatusCode.INVALID_ARGUMENT


@dataclass(frozen=True)
class Remote:
    """Steps that call something outside this transaction."""

    db: Database
    peers: Peers
    token: Token
    limits: Limits
    webhooks: Mapping[str, Webhook]
    http: httpx.AsyncClient
    clock: Callable[[], datetime]
    egress: EgressPolicy = DEFAULT

    async def create_export(self, rule: Rule, firing: Firing, params: dict[str, Any]) -> str:
        parameters = struct_pb2.Struct()
        parameters.update(params.get("parameters", {}))
        request = export_pb.CreateExportRequest(
            kind=params["kind"],
            format=params.get("format", "jsonl"),
            destination=params.get("destination", ""),
            client_key=firing.id,
            parameters=parameters,
            requested_by=rule.requester,  # the export service lets only a service say so
        )
        meta = bearer(self.token(rule.automation))
        try:
            export = await self.peers.export.CreateExport(
                request, metadata=meta, timeout=self.peers.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            raise PeerFailed(exc.code(), exc.details()) from None
        if export.state == FAILED_EXPORT:
            raise Permanent(f"export {export.id} failed: {export.failure_reason}")
        return f"export/{export.id}"

    async def run_compliance_check(self, rule: Rule, firing: Firing, params: dict[str, Any]) -> str:
        requester = Requester(rule.requester, rule_actor(rule), f"trigger/{rule.automation}")
        run = await run_checks(
            self.db,
            GrpcSources(self.peers, self.token(rule.automation)),
            requester=requester,
            clock=self.clock,
            limits=self.limits,
            check_ids=params.get("check_ids", []),
        )
        return f"compliance_run/{run.id}"

    async def notify_webhook(self, rule: Rule, firing: Firing, params: dict[str, Any]) -> str:
        hook = self.webhooks.get(params["webhook"])
        if hook is None:
            raise Permanent(f"webhook {params['webhook']!r} is no longer configured")
        body = json.dumps(_notification(rule, firing), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Tradeops-Delivery": firing.id,
            "X-Tradeops-Trigger": rule.automation,
            **signed_headers(hook.secret, int(time.time()), body),
        }
        request = self.http.build_request("POST", hook.url, content=body, headers=headers)
        try:  # to an address the policy checked; a redirect is never followed
            reply = await send(self.http, self.egress, request)
        except Refused as exc:
            raise Permanent(f"webhook {hook.name}: {exc}") from None
        if not reply.is_success:
            raise RuntimeError(f"webhook {hook.name} answered HTTP {reply.status_code}")
        return f"webhook/{hook.name}"


def _notification(rule: Rule, firing: Firing) -> dict[str, Any]:
    return {
        "firing_id": firing.id,
        "trigger": {"id": rule.id, "name": rule.name, "version": rule.version},
        "event": {
            "id": firing.event_id,
            "seq": firing.event_seq,
            "action": firing.event_action,
            "target": firing.event_target,
        },
        "facts": dict(firing.facts),
    }
