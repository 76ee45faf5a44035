"""Incidents and rows of bench/agent_triage.py; import-only (`make bench` skips bench/_*.py).

The reports are a mix of every incident kind on a few desks and venues, each with its own
subject (so none is de-duplicated); the baseline rows are what the service writes for them
(incident, decision record, two outbox events), built by the agent's own code before the clock
starts, then inserted with plain psycopg executemany."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from psycopg import Connection
from psycopg.types.json import Jsonb

from runtime.auth import SERVICE, Principal
from services.agent.triage.domain.decisions import RuleSet, snapshot
from services.agent.triage.domain.incidents import Incident, NewIncident, fingerprint, normalise
from services.agent.triage.domain.ruleset import load_rule_set
from services.agent.triage.repository.decisions import decision_row
from services.agent.triage.repository.incidents import incident_row
from services.agent.triage.repository.outbox import outbox_row
from services.agent.triage.service.intake import _event as intake_event
from services.agent.triage.service.triage import decide, decided_event
from tradeops.agent.v1 import agent_service_pb2 as pb

TABLES = ("incidents", "decisions", "outbox")
DESKS = ("eq-cash", "eq-derivs", "rates-emea", "fx-spot", "credit")
VENUES = ("XNAS", "XNYS", "BATS", "XLON", "XETR", "XPAR", "XCME", "XEUR")
KINDS: tuple[tuple[str, dict[str, float]], ...] = (
    ("market_data_latency", {"latency_ms": 2400.0}),
    ("market_data_latency", {"latency_ms": 380.0}),
    ("stale_price", {"staleness_s": 45.0}),
    ("order_reject_spike", {"reject_rate": 0.18, "rejects": 540.0}),
    ("fix_session_down", {}),
    ("limit_breach", {"utilization": 1.04}),
    ("pnl_break", {"abs_diff": 250000.0}),
    ("recon_break", {"breaks": 3.0}),
    ("pretrade_reject", {"reject_rate": 0.07, "reject_count": 150.0}),
    ("runaway_algo", {"orders_per_s": 900.0, "orders_per_s_limit": 200.0}),
)
OBSERVED = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)


def report(index: int) -> pb.CreateIncidentRequest:
    kind, metrics = KINDS[index % len(KINDS)]
    message = pb.CreateIncidentRequest(
        source="desk-gateway",
        kind=kind,
        desk=DESKS[index % len(DESKS)],
        subject=f"{kind}-{index:09d}",
        summary=f"bench incident {index}",
        metrics=metrics,
        venue=VENUES[index % len(VENUES)],
    )
    message.observed_at.FromDatetime(OBSERVED)
    return message


def triage_batches(first: int, count: int, size: int) -> list[bytes]:
    """Reports first .. first + count as serialised TriageBatch requests of `size`, made before
    the clock starts: the figure is the service's cost, not this client's."""
    return [
        pb.TriageBatchRequest(
            incidents=[report(i) for i in range(start, min(start + size, first + count))]
        ).SerializeToString()
        for start in range(first, first + count, size)
    ]


def _new(index: int) -> NewIncident:
    sent = report(index)
    return normalise(
        NewIncident(
            sent.source, sent.kind, sent.desk, sent.subject, sent.summary,
            dict(sent.metrics), OBSERVED, sent.venue, sent.instrument,
        )
    )  # fmt: skip


def _rows(index: int, rules: RuleSet, caller: Principal, now: datetime) -> dict[str, list[Any]]:
    new = _new(index)
    incident_id = str(uuid.uuid4())
    incident = Incident(
        **{**vars(new)}, id=incident_id, created_at=now, created_by=caller.subject,
        fingerprint=fingerprint(new), last_seen_at=now, correlation_id=incident_id,
    )  # fmt: skip
    decision = decide(incident, rules, caller.subject, now, time.perf_counter)
    events = [intake_event(incident, caller), decided_event(decision)]
    snapshot(incident)
    return {
        "incidents": [incident_row(incident)],
        "decisions": [decision_row(decision)],
        "outbox": [outbox_row(e, now, "", "") for e in events],
    }


def baseline_rows(count: int) -> list[dict[str, list[Any]]]:
    """Per decision, the rows the service writes for it."""
    rules, now = load_rule_set(), datetime.now(UTC)
    caller = Principal("svc:bench", frozenset({SERVICE}), "", "")
    return [_rows(10**9 + i, rules, caller, now) for i in range(count)]


def _plain(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict | list) else value


def insert_baseline(admin_url: str, rows: list[dict[str, list[Any]]], batch: int) -> float:
    """Decisions per second: plain INSERTs of the rows, `batch` decisions per transaction."""
    with Connection.connect(admin_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA bench_baseline")
        for table in TABLES:
            conn.execute(f"CREATE TABLE bench_baseline.{table} (LIKE agent.{table} INCLUDING ALL)")
        conn.execute(
            "ALTER TABLE bench_baseline.decisions ADD FOREIGN KEY (incident_id)"
            " REFERENCES bench_baseline.incidents (id)"
        )
        statements = {table: _insert(table, rows[0][table][0]) for table in TABLES}
        started = time.perf_counter()
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            with conn.transaction(), conn.cursor() as cursor:
                for table in TABLES:
                    values = [tuple(map(_plain, r.values())) for d in chunk for r in d[table]]
                    cursor.executemany(statements[table], values)
        return len(rows) / (time.perf_counter() - started)


def _insert(table: str, sample: dict[str, Any]) -> str:
    columns = ", ".join(sample)
    marks = ", ".join(["%s"] * len(sample))
    return f"INSERT INTO bench_baseline.{table} ({columns}) VALUES ({marks})"
