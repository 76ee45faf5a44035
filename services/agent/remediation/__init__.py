"""Remediation: versioned playbooks (data in playbooks/*.json) turn a triage decision into
actions with dry-run predictions, proposed to ops; after ops' approval the execution worker runs
them through an executor (an HMAC-signed webhook or the simulator) and reports back to ops.
RemediationService (protos/tradeops/agent/v1/remediation_service.proto) and the execution
worker are wired by services/agent/__main__.py (`remediation_spec`), on the ops stub triage's
proposer uses. Remediation reads decisions through triage's surface (`get_decision`) and audits
through it (`record`); no other context imports remediation, so its public surface is empty.

Tables (migration 0003_remediation): `remediation_plans` (one per decision, never recomputed),
`remediation_steps` (each with its proposal's action id or error), `executions` (one row per
claim of an approved action, with every delivery attempt). Environment: settings.py.

- Planning stores the plan (agent.remediation.planned) before proposing anything; planning
  again returns it and proposes only the steps ops has not accepted. ProposeAction is
  idempotent on "playbook/<decision>/<step>" (agent.remediation.step_proposed per attempt).
- Execution: ops' StartExecution is the claim (one replica wins); a "claiming" row precedes it,
  the outcome is recorded before RecordExecutionResult, and a reconciler reports again what ops
  missed or declares OUTCOME_UNKNOWN after TRADEOPS_AGENT_EXECUTION_STALE_S
  (agent.execution.started|finished|reconciled, actor "agent-executor/<name>").
- Webhook protocol: `POST <url>` with the JSON body {"action_id", "kind", "parameters",
  "idempotency_key"}, the same on every attempt, the key `tradeops-action-<action id>`; headers
  `Idempotency-Key`, `X-Tradeops-Timestamp` (unix seconds) and `X-Tradeops-Signature:
  sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`; the reply `2xx {"status":
  "executed" | "failed", "detail"}`. A 4xx is FAILED; a 5xx or a connection error is retried
  with backoff, then 503 and an unreachable host are FAILED and anything else OUTCOME_UNKNOWN; a
  timeout after the request was sent is OUTCOME_UNKNOWN. `parameters` carries the approved
  parameters with `dry_run` and `playbook` (name, version, step).
- A demo (`make run`) simulates every kind with
  TRADEOPS_AGENT_EXECUTORS='{"default":"demo","executors":[{"name":"demo","type":"simulator"}]}'."""
