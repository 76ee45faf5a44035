"""The README's walkthrough, shortened, through the gateway's port in the pods' network: an
incident, its triage (gateway -> agent -> ops), a second person's approval, the approval in the
audit log (ops -> audit through the outbox), the log verified with the checkpoint keys of the
Secret, and a signed audit extract (export -> audit, signed with the Secret's export key). Every
hop carries a service token signed with the key that pod mounted and checked against trust.json.
Returns what a user would read at each step."""

from __future__ import annotations

import time
from typing import Any

import httpx

INCIDENT = {
    "source": "md-gateway-ny4",
    "kind": "market_data_latency",
    "desk": "equities",
    "subject": "XNAS-ITCH",
    "summary": "ITCH feed latency above 800 ms",
    "metrics": {"latency_ms": 850.0},
}


def walk(api_url: str, tokens: dict[str, str]) -> dict[str, Any]:
    def as_(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[who]}"}

    seen: dict[str, Any] = {}
    with httpx.Client(base_url=api_url, timeout=30) as api:
        incident = api.post("/incidents", json=INCIDENT, headers=as_("olga"))
        seen["incident"] = incident.status_code
        if incident.status_code != 201:
            return seen | {"error": incident.text}
        body = {"incident_id": incident.json()["id"]}
        decision = api.post("/agent/triage", json=body, headers=as_("olga"))
        seen["triage"] = decision.status_code
        if decision.status_code != 201:
            return seen | {"error": decision.text}
        action = decision.json()["action_id"]
        approval = {"comment": "failover confirmed with the desk"}
        approved = api.post(
            f"/agent/ops/actions/{action}/approve", json=approval, headers=as_("bob")
        )
        seen["approved"] = approved.json().get("state", approved.text)
        seen["audited"] = audited(api, as_("bob"), f"action/{action}")
        verdict = api.post("/audit/verify", headers=as_("carol"))
        seen["verified"] = verdict.json().get("ok", verdict.text)
        extract = {"kind": "audit_extract", "from_seq": 0, "to_seq": -1}
        export = api.post("/exports", json=extract, headers=as_("carol"))
        reply = export.json()
        seen["export"] = {
            "state": reply.get("state", export.text),
            "records": reply.get("record_count"),
        }
    return seen


def audited(api: httpx.Client, headers: dict[str, str], target: str) -> list[str]:
    """The audit events about `target` once the approval is among them (the outbox relays it)."""
    deadline = time.monotonic() + 30
    params: dict[str, str | int] = {"after_seq": -1, "limit": 500, "target": target}
    while True:
        page = api.get("/audit/records", params=params, headers=headers)
        actions = [r["event"]["action"] for r in page.json().get("records", [])]
        if "ops.action.approved" in actions or time.monotonic() >= deadline:
            return actions
        time.sleep(0.3)
