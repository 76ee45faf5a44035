"""What every channel (runtime.clients) is configured with: round robin over every backend its
target names (runtime.targets) whose health is SERVING, and gRPC's own retry of the calls that
are safe to send twice.

A call is retried (up to twice more, after 0.1 s then 0.2 s, on another replica when one is up)
only on UNAVAILABLE, which gRPC returns when the replica it reached went away or could not be
reached, and only if it is listed in SAFE: reads, and AppendEvents, which is idempotent on its
event ids. A read that audits itself (ListRecords, the proofs) is recorded once per attempt that
reached the service, each a read that happened. Verifications are not reads: VerifyExport
stores its result and counts failures toward FAILED, VerifyChain appends an alert when it fails.
Nothing that creates or changes something is retried here, keyed or not: the same
method is called with and without an `idempotency-key`, and a call without one cut off by a
replica's death may have committed (its caller sees UNAVAILABLE, 503 at the gateway, and
decides; with a key, runtime.idempotency makes the caller's retry safe). Retry throttling stops
retrying while most calls fail (a whole service down), so retries never pile up on it."""

from __future__ import annotations

import json
from collections.abc import Mapping

SAFE: Mapping[str, tuple[str, ...]] = {
    "tradeops.ops.v1.OpsService": (
        "GetAction",
        "ListActions",
        "GetTimeline",
        "ListPolicies",
        "ListEscalationPolicies",
        "GetMetrics",
    ),
    "tradeops.agent.v1.AgentService": (
        "GetIncident",
        "ListIncidents",
        "GetDecision",
        "ListDecisions",
        "GetTriageMetrics",
        "GetRuleSet",
        "ListRuleSets",
    ),
    "tradeops.agent.v1.ComplianceService": (
        "GetRun",
        "ListRuns",
        "ListResults",
        "ListChecks",
        "GetAuditSummary",
        "ListAuditSummaries",
    ),
    "tradeops.agent.v1.RemediationService": ("GetPlan", "ListExecutions", "ListPlaybooks"),
    "tradeops.agent.v1.ProbeService": ("GetProbe", "ListProbes", "ListProbeRuns"),
    "tradeops.agent.v1.TriggerService": ("GetTrigger", "ListTriggers", "ListFirings"),
    "tradeops.export.v1.ExportService": (
        "GetExport",
        "ListExports",
        "ListAttempts",
        "ListSchedules",
        "ListPublicKeys",
    ),
    "tradeops.audit.v1.AuditService": (
        "AppendEvents",
        "ListRecords",
        "StreamRecords",
        "StreamRecordPages",
        "WatchRecords",
        "GetInclusionProof",
        "GetConsistencyProof",
        "GetCheckpoint",
        "ListPublicKeys",
    ),
}

RETRY_POLICY = {
    "maxAttempts": 3,
    "initialBackoff": "0.1s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}


def service_config() -> str:
    """The channel's service config (gRPC's JSON)."""
    names = [{"service": svc, "method": m} for svc, methods in SAFE.items() for m in methods]
    return json.dumps(
        {
            "loadBalancingConfig": [{"round_robin": {}}],
            # Round robin watches each replica's overall health ("": its database answers,
            # runtime.health) and skips one that is NOT_SERVING; a server without the health
            # service counts as serving.
            "healthCheckConfig": {"serviceName": ""},
            "methodConfig": [{"name": names, "retryPolicy": RETRY_POLICY}],
            "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1},
        }
    )
