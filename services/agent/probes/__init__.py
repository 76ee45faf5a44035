"""Scheduled probes: versioned definitions of an HTTP health or metrics check of a desk system,
run from durable schedule rows, opening (and folding, and recovering) one incident per failing
spell through triage's intake. ProbeService (protos/tradeops/agent/v1/probe_service.proto) and
the probe worker are wired by services/agent/__main__.py (`probes_spec`); an incident a probe
opens is triaged there as the probe ("probe:<name>@v<n>"). No other context imports probes, so
its public surface is empty.

Requester: what a probe version causes (its incident, the triage decision and the action that
proposes) is requested by the admin who last changed or enabled it (`changed_by`, recorded
since the first version), never by the probe itself, so that admin cannot approve it. A version
with no person recorded (empty or "system:...") is its own requester, "probe:<name>@v<n>".

Tables (migration 0005_probes): `probes` (current version, schedule `next_run_at`,
`open_incident_id`, `last_run_id`), `probe_versions` (every version, never changed),
`probe_runs` (the latest TRADEOPS_AGENT_PROBE_KEEP_RUNS per probe); the migration also added
`resolved_at` and `resolution` to agent.incidents, and intake never folds onto a resolved one.

- Claiming: due probes FOR UPDATE SKIP LOCKED, `next_run_at` moved on in the same transaction,
  so each due run happens once across replicas; a crash after the claim loses that one run,
  never the schedule; after downtime one catch-up run. Requests run outside any transaction;
  each result is recorded in one transaction that locks the probe row.
- De-duplication is the explicit link `probes.open_incident_id`, not the intake's time window
  (which a slow interval would outlast): each failing run adds an occurrence to the linked
  incident (agent.incident.repeated), the first passing run resolves it
  (agent.incident.resolved); if a person resolved it meanwhile, the next failure opens anew.
- Audit: agent.probe.created|changed|disabled (actor: the admin; the full definition and its
  SHA-256); agent.probe.incident_opened|updated|recovered (actor "probe:<name>@v<n>",
  `requested_by` in the payload, as in the incident's agent.incident.created).
- Disabling stops runs; an open incident stays open for people to resolve.
- URLs are requested from the agent process within TRADEOPS_EGRESS_ALLOW, redirects not
  followed; the host is resolved once, every address checked and the request pinned to them
  (runtime/pinning.py), so DNS rebinding is not used; https requests carry `Connection: close`.
  Requests carry no authentication yet, and a URL may not carry credentials."""
