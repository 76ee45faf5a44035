"""Log lines: JSON with the current trace id, and secrets scrubbed before they are written."""

from __future__ import annotations

import json
import logging

from opentelemetry.sdk.trace import TracerProvider

from runtime.logs import JsonFormatter, scrub
from tests.keys import Keys


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("t", logging.WARNING, __file__, 1, message, args, None)


def test_tokens_keys_and_passwords_are_scrubbed(keys: Keys) -> None:
    token = keys.token("alice", "ops")
    pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB\n-----END PRIVATE KEY-----"
    text = scrub(
        f"auth=Bearer {token} raw={token} key={pem} "
        "url=postgresql://ops_svc:hunter2@127.0.0.1:5432/tradeops password=hunter2&x=1"
    )
    assert token not in text
    assert "hunter2" not in text
    assert "MC4CAQAwBQYDK2VwBCIEIB" not in text
    assert "postgresql://ops_svc:[redacted]@127.0.0.1:5432/tradeops" in text
    assert "Bearer [redacted]" in text


def test_plain_text_is_left_alone() -> None:
    line = "GET /agent/ops/actions/7f3c 200 3.1ms seq=42 event_id=abc"
    assert scrub(line) == line


def test_json_line_carries_trace_and_span_of_the_current_span() -> None:
    tracer = TracerProvider().get_tracer("t")
    formatter = JsonFormatter("ops")
    with tracer.start_as_current_span("work") as span:
        line = json.loads(formatter.format(_record("vote on %s", "a1")))
    context = span.get_span_context()
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")
    assert line["message"] == "vote on a1"
    assert line["service"] == "ops"
    assert line["level"] == "WARNING"
    outside = json.loads(formatter.format(_record("idle")))
    assert "trace_id" not in outside
