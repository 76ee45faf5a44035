"""Compliance automation and audit summaries: versioned checks over the ops, audit and export
contracts, run on a durable schedule and on demand, and audit-log summaries with their
provenance. ComplianceService (protos/tradeops/agent/v1/compliance_service.proto) and the
scheduler worker are wired by services/agent/__main__.py (`compliance_spec`), reading the peers
through one `Peers` (ops, audit, export). The names below are its public surface: what
workflows (whose steps run checks) and the process's wiring may use. A failing check opens an
incident through triage's surface; audit events go through triage's `record`.

Tables (migration 0004_compliance): `compliance_runs`, `compliance_results` (evidence and the
incident a failure raised), `compliance_schedules` (the `default` row, due every
TRADEOPS_AGENT_COMPLIANCE_INTERVAL_S, claimed FOR UPDATE SKIP LOCKED by one replica),
`audit_summaries`. Environment: settings.py.

- On-demand runs and summaries read the peers with the caller's token (audit records those
  reads under the caller's name); scheduled runs as the agent's service identity. A peer that
  refuses or fails makes the check ERROR (`PeerError`), never PASS.
- Known gaps in peers' contracts, seen by scheduled runs: AuditService VerifyChain and
  ExportService ListExports do not admit `service`, so `audit.chain_verifies` and
  `export.verified_in_time` are `error` ("a peer answered PERMISSION_DENIED") until SERVICES is
  added to those RBAC entries. The export contract has no per-export verification deadline
  (TRADEOPS_AGENT_EXPORT_VERIFY_WITHIN_S stands in; verified means `verified_at >=
  delivered_at`, or `created_at` without a destination). ListEscalationPolicies returns
  current versions only, so an action planned under an older one is judged against the
  current one."""

from services.agent.compliance.clients.peers import GrpcSources, Peers
from services.agent.compliance.domain.checks import CHECKS, Limits
from services.agent.compliance.service.runs import Requester, run_checks

__all__ = ["CHECKS", "GrpcSources", "Limits", "Peers", "Requester", "run_checks"]
