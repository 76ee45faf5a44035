"""Idempotency-Key over REST, through the gateway to the services' key tables: a retried
create returns the first result and creates nothing twice."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import httpx
import psycopg

from tests.e2e.test_seed_flow import LATENCY_INCIDENT

Headers = Callable[..., dict[str, str]]


def test_a_retried_triage_returns_the_first_decision_and_makes_no_second(
    api: httpx.Client, auth_header: Headers, admin_sql: psycopg.Connection[Any]
) -> None:
    olga = auth_header("olga", "ops")
    # A subject of its own: equal reports fold onto one incident, which other tests triage too.
    report = {**LATENCY_INCIDENT, "subject": f"XNAS-{secrets.token_hex(4).upper()}"}
    incident = api.post("/incidents", json=report, headers=olga).json()
    keyed = {**olga, "Idempotency-Key": f"triage-{secrets.token_hex(8)}"}
    first = api.post("/agent/triage", json={"incident_id": incident["id"]}, headers=keyed)
    retry = api.post("/agent/triage", json={"incident_id": incident["id"]}, headers=keyed)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    decisions = admin_sql.execute(
        "SELECT count(*) FROM agent.decisions WHERE incident_id = %s", (incident["id"],)
    ).fetchone()
    assert decisions == (1,)


def test_a_retried_export_is_the_same_export(api: httpx.Client, auth_header: Headers) -> None:
    keyed = {**auth_header("cora", "compliance"), "Idempotency-Key": secrets.token_hex(8)}
    body = {"kind": "incidents_report", "format": "csv"}
    first = api.post("/exports", json=body, headers=keyed)
    retry = api.post("/exports", json=body, headers=keyed)
    assert first.status_code < 300, first.text
    assert retry.json()["id"] == first.json()["id"]


def test_a_key_reused_for_another_body_or_malformed_is_refused(
    api: httpx.Client, auth_header: Headers
) -> None:
    keyed = {**auth_header("olga", "ops"), "Idempotency-Key": secrets.token_hex(8)}
    assert api.post("/incidents", json=LATENCY_INCIDENT, headers=keyed).status_code == 201
    other = {**LATENCY_INCIDENT, "subject": "XLON-MD"}
    reused = api.post("/incidents", json=other, headers=keyed)
    assert reused.status_code == 422
    assert "different request" in reused.json()["error"]["message"]
    bad = {**auth_header("olga", "ops"), "Idempotency-Key": "two words"}
    refused = api.post("/incidents", json=LATENCY_INCIDENT, headers=bad)
    assert refused.status_code == 422
    assert "Idempotency-Key" in refused.json()["error"]["message"]


def test_a_retried_comment_is_one_comment(
    api: httpx.Client, auth_header: Headers, admin_sql: psycopg.Connection[Any]
) -> None:
    olga = auth_header("olga", "ops")
    report = {**LATENCY_INCIDENT, "subject": f"XNAS-{secrets.token_hex(4).upper()}"}
    incident = api.post("/incidents", json=report, headers=olga).json()
    decision = api.post("/agent/triage", json={"incident_id": incident["id"]}, headers=olga)
    action = decision.json()["action_id"]
    keyed = {**olga, "Idempotency-Key": secrets.token_hex(8)}
    path = f"/agent/ops/actions/{action}/comments"
    first = api.post(path, json={"text": "restarting the feed handler"}, headers=keyed)
    retry = api.post(path, json={"text": "restarting the feed handler"}, headers=keyed)
    assert first.status_code < 300, first.text
    assert retry.json() == first.json()
    comments = admin_sql.execute(
        "SELECT count(*) FROM ops.timeline WHERE action_id = %s AND kind = 'comment'", (action,)
    ).fetchone()
    assert comments == (1,)
