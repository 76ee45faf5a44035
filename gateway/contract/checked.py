"""The rules a schema cannot state, because they need other fields, the time or the server's
state, named in the description of each operation that has them: a client reads there why a
request its schema allows can still be refused (422, or 409/404 where said)."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
CURSOR = "page_token only as a next_page_token this server gave"
WINDOW = "until later than since"
ONE_SIZE = "page_size or the deprecated limit, not both"
INCIDENT = (
    "observed_at not in the future; source and subject not blank; metric names distinct once"
    " normalised"
)
SCHEDULE = (
    "cron five fields the export service's cron parser takes; time_zone an IANA zone; the"
    " parameters the kind takes (ExportParameters); destination a configured one"
)
PROBE = (
    "incident.subject and summary not blank, the summary's {placeholders} known;"
    " incident.value_metric not among incident.metrics"
)
TRIGGER = "step.parameters what the step kind needs (TriggerStep in the contract)"
IN_CODE: dict[tuple[str, str], str] = {
    ("post", "/incidents"): INCIDENT,
    ("get", "/incidents"): f"{ONE_SIZE}; {CURSOR}",
    ("get", "/incidents/{incident_id}/decisions"): CURSOR,
    ("post", "/agent/triage/batch"): f"for each incident: {INCIDENT}",
    ("get", "/agent/triage/metrics"): WINDOW,
    ("put", "/agent/rulesets"): "a whole rule file (baseline.json's format), the active"
    " version + 1 (409 otherwise), declaring every kind the active one does",
    ("post", "/agent/compliance/run"): "check_ids among GET /agent/compliance/checks",
    ("get", "/agent/compliance/results"): f"{ONE_SIZE}; {CURSOR}",
    ("post", "/agent/audit-summaries"): f"{WINDOW}, by at most 31 days",
    ("get", "/agent/ops/actions"): f"{CURSOR}, for the same order; order DEADLINE with"
    " awaiting_me=true or state=PENDING_APPROVAL",
    ("put", "/agent/ops/policies/{policy_id}"): "role_requirements' counts adding up to at most"
    " approvals_required; escalation_policy_id an existing escalation policy (PUT it first)",
    ("get", "/agent/ops/metrics"): WINDOW,
    ("get", "/audit/records"): WINDOW,
    ("get", "/audit/proofs/inclusion"): "seq below tree_size, which is at most the latest"
    " checkpoint's size",
    ("get", "/audit/proofs/consistency"): "first_size at most second_size, which is at most"
    " the latest checkpoint's size",
    ("post", "/exports"): "from_seq/to_seq for an audit_extract only and not with since/until;"
    f" to_seq -1 or at least from_seq; {WINDOW}; the parameters the kind takes"
    " (ExportParameters); an evidence_pack names parameters.action_id, is jsonl and takes no"
    " time range; destination a configured one",
    ("get", "/exports"): CURSOR,
    ("post", "/exports/verify"): f"ids or a time range, not both; {WINDOW}",
    ("post", "/exports/schedules"): SCHEDULE,
    ("put", "/exports/schedules/{schedule_id}"): SCHEDULE,
    ("post", "/exports/{export_id}/redeliver"): "destination a configured one",
    ("get", "/exports/{export_id}/files/{name}"): "name one of the export's files,"
    " manifest.json or manifest.json.sig (404 otherwise); the export finished: SIGNED,"
    " DELIVERING, DELIVERED or VERIFIED (409 otherwise)",
    ("post", "/probes"): PROBE,
    ("put", "/probes/{probe_id}"): PROBE,
    ("post", "/triggers"): TRIGGER,
    ("put", "/triggers/{trigger_id}"): TRIGGER,
    ("get", "/trigger-firings"): CURSOR,
    ("get", "/triggers/{trigger_id}/firings"): CURSOR,
}
LEAD = "Checked by the service, not the schema (they need other fields or its state): "


def declare(document: Schema) -> None:
    for (method, path), rules in IN_CODE.items():
        operation = document["paths"][path][method]
        own = operation.get("description")
        operation["description"] = (f"{own}\n\n" if own else "") + LEAD + rules + "."
