"""A vote runs on a plain psycopg connection, outside the SQLAlchemy instrumentation: its SQL
still shows in the caller's trace, and its audit events carry that trace's id."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runtime.db import Database
from services.ops.service import proposals as service
from tests.ops.helpers import events_for, later, person, propose


async def test_a_votes_sql_is_in_the_callers_trace_and_on_its_audit_events(
    ops_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "get_tracer", provider.get_tracer)
    action = await propose(ops_db)
    with provider.get_tracer("test").start_as_current_span("POST approve") as caller:
        await service.approve(
            ops_db, action_id=action.id, approver=person("olga", "ops"), now=later(60)
        )
    trace_id = caller.get_span_context().trace_id
    sql = [s for s in exporter.get_finished_spans() if s.name == "ops.vote.sql"]
    assert len(sql) == 1  # the transaction, load to commit
    assert all(s.context.trace_id == trace_id for s in sql)
    assert all(s.parent and s.parent.span_id == caller.get_span_context().span_id for s in sql)
    assert all((s.attributes or {}).get("db.system") == "postgresql" for s in sql)
    approval = (await events_for(ops_db, action.id))[-2:]
    assert [e["action"] for e in approval] == ["ops.action.vote_recorded", "ops.action.approved"]
    assert {e["trace_id"] for e in approval} == {format(trace_id, "032x")}
