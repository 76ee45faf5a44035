"""The four workflow steps. Each is idempotent on the firing id: the export's client_key, the
webhook's X-Tradeops-Delivery header, and the incident written in the same transaction as the
firing's outcome (see runner.py). Everything is done as the rule version's own identity,
"trigger:<name>@v<version>"."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from google.protobuf import struct_pb2
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import SERVICE, Principal
from runtime.clients import bearer
from runtime.db import Database
from runtime.egress import DEFAULT, EgressPolicy, Refused
from runtime.pinning import send
from runtime.webhook_signing import signed_headers
from services.agent.compliance.clients.peers import GrpcSources, Peers
from services.agent.compliance.domain.checks import Limits
from services.agent.compliance.service.runs import Requester, run_checks
from services.agent.triage.domain.incidents import MAX_SUMMARY, NewIncident
from services.agent.triage.domain.intake import Windows
from services.agent.triage.service.incidents import accept, open_one
from services.agent.workflows.events import rule_actor
from services.agent.workflows.model import Firing, Rule
from services.agent.workflows.settings import Webhook
from tradeops.export.v1 import export_service_pb2 as export_pb

Token = Callable[[str], str]  # automation subject -> a service token in its name
SOURCE = "agent.triggers"
FAILED_EXPORT = export_pb.ExportState.Value("EXPORT_STATE_FAILED")


class Permanent(Exception):
    """A failure retrying cannot fix (the step's idempotent answer will not change)."""


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
        )
        meta = bearer(self.token(rule.automation))
        export = await self.peers.export.CreateExport(
            request, metadata=meta, timeout=self.peers.timeout_s
        )
        if export.state == FAILED_EXPORT:
            raise Permanent(f"export {export.id} failed: {export.failure_reason}")
        return f"export/{export.id}"

    async def run_compliance_check(self, rule: Rule, firing: Firing, params: dict[str, Any]) -> str:
        requester = Requester(rule.automation, rule_actor(rule), f"trigger/{rule.automation}")
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


async def open_incident(
    session: AsyncSession, rule: Rule, firing: Firing, params: dict[str, Any], now: datetime
) -> str:
    """Through the agent's normal intake (normalised, de-duplicated, audited), in the caller's
    transaction; the incident's created_by is the rule version."""
    summary = params.get("summary") or (
        f"Trigger {rule.name} v{rule.version} fired on {firing.event_action} "
        f"{firing.event_target} (audit seq {firing.event_seq})."
    )
    report = NewIncident(
        source=SOURCE,
        kind=params["kind"],
        desk=params.get("desk", ""),
        subject=params.get("subject") or firing.event_target,
        summary=f"{summary} [trigger {rule.automation}, firing {firing.id}]"[-MAX_SUMMARY:],
        metrics={},
        observed_at=now,
    )
    caller = Principal(rule.automation, frozenset({SERVICE}))
    [accepted] = accept([report], now)
    incident = await open_one(session, accepted, caller=caller, now=now, windows=Windows())
    return f"incident/{incident.id}"
