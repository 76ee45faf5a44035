"""Triggers: versioned rules on audit events that start one workflow step each.
TriggerService (protos/tradeops/agent/v1/trigger_service.proto) and the trigger worker are wired
by services/agent/__main__.py (`trigger_spec`, with workers.triggers.trigger_worker); steps run
checks through compliance's surface and open incidents through triage's. No other context
imports workflows, so its public surface is empty.

Tables (migration 0006_triggers): `triggers`, `trigger_versions` (append-only),
`trigger_firings` (unique on rule id + event id), `trigger_cursors`. Environment: settings.py.

- The worker writes the shipped rules of defaults.json whose names do not exist yet (version 1,
  by "system:defaults", audited): `kill-switch-evidence` and `compliance-failure-incident`
  (shipped disabled: compliance opens its own incident per failure).
- Every TRADEOPS_AGENT_TRIGGER_POLL_S (or at once after a rule change) it asks AuditService
  GetCheckpoint (not audited) and, when the signed log has grown past its own last read
  record, reads pages after the durable cursor as "svc:agent.triggers", matching the enabled
  rules and committing the firings with the cursor's advance; then it claims due firings (FOR
  UPDATE SKIP LOCKED, a 2-minute lease), runs each step as "trigger:<name>@v<version>" and
  records DONE, a retry (exponential backoff) or FAILED with its audit event.
- Steps, idempotent on the firing id: create_export (ExportService CreateExport, client_key),
  run_compliance_check (the checks in-process; read-only, incidents de-duplicate),
  notify_webhook (signed POST, X-Tradeops-Delivery header; TRADEOPS_EGRESS_ALLOW is checked on
  every resolved address and redirects are not followed), open_incident (the agent's intake,
  in the outcome's transaction).
- Requester: what a rule version causes (its export, compliance run, incident) is requested
  by the admin who wrote that version (`created_by`, recorded since version 1), never by the
  rule; a version no person wrote (the shipped defaults) is its own requester. The export
  service takes it as CreateExport's `requested_by`, which only a service may set.
- Loop guard: agent.trigger.* events, events whose actor is trigger:* and the consumer's own
  reads never fire; PutTrigger refuses a step matching its own effects' events.
- Known gaps: create_export's service token is named for the rule version, so a peer refusing
  services fails the export and the firing; `action.*` conditions are the action's kind, risk
  and state when the event is matched (ops GetAction), not when it happened."""
