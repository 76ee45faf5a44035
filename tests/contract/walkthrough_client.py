"""The README's "## Walkthrough", call for call, through a client generated from the gateway's
OpenAPI document (openapi-python-client, as the package `tradeops_client`).

Not run on its own: tests/e2e/test_generated_client.py generates the client, type-checks this
file against it with `mypy --strict` (a document that loses a route, a field or a type breaks
it), then runs it against the real system:

    python walkthrough_client.py API OLGA_TOKEN BOB_TOKEN CAROL_TOKEN

(Olga and Bob have the role ops, Carol compliance.) Each step checks what the README shows; a
status the document does not declare raises (`raise_on_unexpected_status`)."""

from __future__ import annotations

import sys
import time
from typing import TypeVar
from uuid import UUID

from tradeops_client import AuthenticatedClient
from tradeops_client.api.actions import (
    approve_action_agent_ops_actions_action_id_approve_post as approve_action,
)
from tradeops_client.api.actions import list_actions_agent_ops_actions_get as list_actions
from tradeops_client.api.audit import list_records_audit_records_get as list_records
from tradeops_client.api.audit import verify_chain_audit_verify_post as verify_chain
from tradeops_client.api.exports import create_export_exports_post as create_export
from tradeops_client.api.incidents import create_incident_incidents_post as create_incident
from tradeops_client.api.triage import triage_incident_agent_triage_post as triage_incident
from tradeops_client.models import (
    AgentV1Incident,
    AgentV1TriageDecision,
    AuditV1AuditEvent,
    AuditV1AuditRecord,
    AuditV1ListRecordsResponse,
    AuditV1VerifyChainResponse,
    CommonV1Actor,
    ErrorBody,
    ExportV1Export,
    ExportV1ExportState,
    ListActionsAgentOpsActionsGetStateType0,
    NewExport,
    NewExportKind,
    NewIncident,
    NewIncidentKind,
    NewIncidentMetrics,
    OpsV1Action,
    OpsV1ActionState,
    OpsV1ListActionsResponse,
    TriageRequest,
    Vote,
)

T = TypeVar("T")


def expect(reply: T | ErrorBody | None, kind: type[T], step: str) -> T:
    """The reply the step is about, or a stop that says what came back instead."""
    if not isinstance(reply, kind):
        raise SystemExit(f"{step}: expected {kind.__name__}, got {reply!r}")
    return reply


def entry(record: AuditV1AuditRecord) -> tuple[str, str, str]:
    """Who did what, and how it went: what the README's step 5 prints of a record."""
    event = record.event
    assert isinstance(event, AuditV1AuditEvent), record
    actor = event.actor
    assert isinstance(actor, CommonV1Actor), event
    return str(actor.subject), str(event.action), str(event.outcome)


def main(api: str, olga_token: str, bob_token: str, carol_token: str) -> None:
    olga, bob, carol = (
        AuthenticatedClient(base_url=api, token=token, raise_on_unexpected_status=True)
        for token in (olga_token, bob_token, carol_token)
    )

    # 1. An incident from the market-data desk
    metrics = NewIncidentMetrics()
    metrics["latency_ms"] = 850
    new_incident = NewIncident(
        source="md-gateway-ny4",
        kind=NewIncidentKind.MARKET_DATA_LATENCY,  # the kinds of the rule set in force
        desk="equities",
        subject="XNAS-ITCH",
        summary="ITCH latency above 800 ms",
        metrics=metrics,
    )
    reply = create_incident.sync(client=olga, body=new_incident)
    incident = expect(reply, AgentV1Incident, "1. the incident")

    # 2. Triage: severity, the rules that fired, the proposed action
    request = TriageRequest(incident_id=UUID(incident.id))
    decision = expect(
        triage_incident.sync(client=olga, body=request), AgentV1TriageDecision, "2. triage"
    )
    print(f"triage: {decision.severity}, rules {[hit.rule_id for hit in decision.rules_fired]}")
    action_id = UUID(decision.action_id)

    # 3. The proposed action, waiting for approval
    waiting = expect(
        list_actions.sync(
            client=bob, state=ListActionsAgentOpsActionsGetStateType0.PENDING_APPROVAL
        ),
        OpsV1ListActionsResponse,
        "3. actions waiting for approval",
    )
    action = next(a for a in waiting.actions if a.id == str(action_id))
    assert action.state is OpsV1ActionState.PENDING_APPROVAL, action.state
    assert action.requested_by == "olga", action.requested_by

    # 4. Olga cannot approve her own request (403); Bob can
    refused = approve_action.sync_detailed(action_id, client=olga, body=Vote())
    assert refused.status_code == 403, refused
    denial = refused.parsed
    assert isinstance(denial, ErrorBody), denial
    assert denial.error.code == "PERMISSION_DENIED", denial
    approved = expect(
        approve_action.sync(
            action_id, client=bob, body=Vote(comment="failover confirmed with the desk")
        ),
        OpsV1Action,
        "4. Bob's approval",
    )
    assert approved.state is OpsV1ActionState.APPROVED, approved.state

    # 5. The action's audit trail (after the outbox relays' moment), and a verification
    time.sleep(1)
    records = expect(
        list_records.sync(client=carol, target=f"action/{action_id}"),
        AuditV1ListRecordsResponse,
        "5. the audit trail",
    )
    trail = [entry(record) for record in records.records]
    assert trail == [
        ("agent-triage/baseline", "ops.action.proposed", "success"),
        ("olga", "ops.action.vote_recorded", "denied"),
        ("bob", "ops.action.vote_recorded", "success"),
        ("bob", "ops.action.approved", "success"),
    ], trail
    verdict = expect(verify_chain.sync(client=carol), AuditV1VerifyChainResponse, "5. verify")
    assert verdict.ok, verdict

    # 6. An audit extract as JSON Lines, with its SHA-256
    extract = expect(
        create_export.sync(
            client=carol, body=NewExport(kind=NewExportKind.AUDIT_EXTRACT, from_seq=0, to_seq=-1)
        ),
        ExportV1Export,
        "6. the audit extract",
    )
    assert extract.state is ExportV1ExportState.SIGNED, extract.state
    assert len(extract.sha256) == 64, extract
    print(f"extract {extract.id}: {extract.record_count} records, sha256 {extract.sha256}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
