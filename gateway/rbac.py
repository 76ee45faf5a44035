"""Role-based access: the one table saying which roles may call which route.

Keys are (HTTP method, path template exactly as routed and as in the OpenAPI document). A
route missing from the table is refused for everyone (fail closed); a test walks every
OpenAPI route against it. The services check roles again on their side.

The ops routes take the roles each RPC's contract names, without the "service" pseudo-role
(no route here admits a service token). Where the ops service's own table is wider so that its
use case can refuse and audit precisely (votes, cancelling, PutPolicy), the gateway keeps the
contract's narrower set: a requester who may cancel reported the incident, so is a trader."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from fastapi import Depends, Request

from gateway.auth import authenticate, report_refusal
from gateway.errors import ApiError
from runtime.auth import ANYONE, APPROVERS, COMPLIANCE, TRADERS, Principal

Route = tuple[str, str]

OPERATORS = frozenset({"ops", "admin"})
ADMIN = frozenset({"admin"})
ACTION = "/agent/ops/actions/{action_id}"

RBAC: Mapping[Route, frozenset[str]] = MappingProxyType(
    {
        ("POST", "/incidents"): TRADERS,
        ("GET", "/incidents"): ANYONE,
        ("GET", "/incidents/{incident_id}"): ANYONE,
        ("GET", "/incidents/{incident_id}/decisions"): ANYONE,
        ("POST", "/agent/triage"): TRADERS,
        ("POST", "/agent/triage/batch"): TRADERS,
        ("GET", "/agent/triage/metrics"): ANYONE,
        ("GET", "/agent/triage/{decision_id}"): ANYONE,
        ("POST", "/agent/triage/{decision_id}/replay"): ANYONE,
        ("POST", "/agent/triage/{decision_id}/feedback"): TRADERS,
        ("PUT", "/agent/rulesets"): ADMIN,
        ("GET", "/agent/rulesets"): ANYONE,
        ("GET", "/agent/rulesets/{version}"): ANYONE,
        ("POST", "/agent/remediation/{decision_id}/plan"): TRADERS,
        ("GET", "/agent/remediation/{decision_id}"): ANYONE,
        ("GET", "/agent/executions"): ANYONE,
        ("GET", "/agent/playbooks"): ANYONE,
        ("POST", "/agent/compliance/run"): COMPLIANCE,
        ("GET", "/agent/compliance/checks"): ANYONE,
        ("GET", "/agent/compliance/runs"): APPROVERS,
        ("GET", "/agent/compliance/runs/{run_id}"): APPROVERS,
        ("GET", "/agent/compliance/results"): APPROVERS,
        ("POST", "/agent/audit-summaries"): COMPLIANCE,
        ("GET", "/agent/audit-summaries"): COMPLIANCE,
        ("GET", "/agent/audit-summaries/{summary_id}"): COMPLIANCE,
        ("GET", "/agent/ops/actions"): ANYONE,
        ("GET", ACTION): ANYONE,
        ("GET", f"{ACTION}/eligibility"): ANYONE,
        ("POST", f"{ACTION}/approve"): APPROVERS,
        ("POST", f"{ACTION}/reject"): APPROVERS,
        ("POST", f"{ACTION}/cancel"): TRADERS,
        ("PUT", f"{ACTION}/parameters"): OPERATORS,
        ("POST", f"{ACTION}/assign"): APPROVERS,
        ("POST", f"{ACTION}/acknowledge"): APPROVERS,
        ("POST", f"{ACTION}/escalate"): APPROVERS,
        ("POST", f"{ACTION}/comments"): TRADERS,
        ("GET", f"{ACTION}/timeline"): ANYONE,
        ("POST", f"{ACTION}/execution"): OPERATORS,
        ("POST", f"{ACTION}/execution/result"): OPERATORS,
        ("GET", "/agent/ops/policies"): ANYONE,
        ("PUT", "/agent/ops/policies/{policy_id}"): ADMIN,
        ("GET", "/agent/ops/escalation-policies"): ANYONE,
        ("PUT", "/agent/ops/escalation-policies/{policy_id}"): ADMIN,
        ("GET", "/agent/ops/metrics"): ANYONE,
        ("GET", "/audit/records"): ANYONE,
        ("POST", "/audit/verify"): COMPLIANCE,
        ("POST", "/audit/records/{seq}/redact"): COMPLIANCE,
        ("GET", "/audit/proofs/inclusion"): ANYONE,
        ("GET", "/audit/proofs/consistency"): ANYONE,
        ("GET", "/audit/checkpoints/latest"): ANYONE,
        ("GET", "/audit/checkpoints/latest.txt"): ANYONE,
        ("GET", "/audit/checkpoints/{tree_size}"): ANYONE,
        ("GET", "/audit/keys"): ANYONE,
        ("POST", "/exports"): COMPLIANCE,
        ("GET", "/exports"): ANYONE,
        ("POST", "/exports/verify"): COMPLIANCE,
        ("GET", "/exports/schedules"): ANYONE,
        ("POST", "/exports/schedules"): COMPLIANCE,
        ("PUT", "/exports/schedules/{schedule_id}"): COMPLIANCE,
        ("DELETE", "/exports/schedules/{schedule_id}"): COMPLIANCE,
        ("GET", "/exports/keys"): ANYONE,
        ("GET", "/exports/{export_id}"): ANYONE,
        ("POST", "/exports/{export_id}/verify"): COMPLIANCE,
        ("POST", "/exports/{export_id}/redeliver"): COMPLIANCE,
        ("GET", "/exports/{export_id}/attempts"): ANYONE,
        # An export's contents, not its listing: the roles that create and verify exports.
        ("GET", "/exports/{export_id}/files/{name}"): COMPLIANCE,
        ("GET", "/probes"): ANYONE,
        ("POST", "/probes"): ADMIN,
        ("GET", "/probes/{probe_id}"): ANYONE,
        ("PUT", "/probes/{probe_id}"): ADMIN,
        ("POST", "/probes/{probe_id}/disable"): ADMIN,
        ("GET", "/probes/{probe_id}/runs"): ANYONE,
        ("GET", "/triggers"): ANYONE,
        ("POST", "/triggers"): ADMIN,
        ("GET", "/trigger-firings"): ANYONE,
        ("GET", "/triggers/{trigger_id}"): ANYONE,
        ("PUT", "/triggers/{trigger_id}"): ADMIN,
        ("POST", "/triggers/{trigger_id}/disable"): ADMIN,
        ("GET", "/triggers/{trigger_id}/firings"): ANYONE,
    }
)

# Probes: no token, no table entry.
PUBLIC: frozenset[Route] = frozenset({("GET", "/healthz"), ("GET", "/readyz")})


def allowed_roles(method: str, path: str) -> frozenset[str]:
    return RBAC.get((method, path), frozenset())


async def authorize(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> Principal:
    """The caller, if one of their roles may call the matched route; 403 otherwise."""
    path = getattr(request.scope.get("route"), "path_format", "")
    if not principal.roles & allowed_roles(request.method, path):
        report_refusal(
            request, principal, 403, f"no role among {sorted(allowed_roles(request.method, path))}"
        )
        raise ApiError(
            403,
            "PERMISSION_DENIED",
            f"{principal.subject} may not call {request.method} {path}",
        )
    return principal


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """States each operation's roles in the OpenAPI document, from the same table, ahead of
    the route's own description."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            roles = sorted(allowed_roles(method.upper(), path))
            if roles:
                own = operation.get("description")
                operation["description"] = f"Roles: {', '.join(roles)}." + (
                    f"\n\n{own}" if own else ""
                )
                operation["x-roles"] = roles
    return schema
