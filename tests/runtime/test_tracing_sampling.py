"""Tracing by sampling ratio, parent-based: new traces are sampled at the configured share,
continued traces follow the caller's decision, so no trace is recorded in half its services."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from runtime.settings import SettingsError
from runtime.telemetry import sampler_from_env


def _recorder(
    monkeypatch: pytest.MonkeyPatch, ratio: str
) -> tuple[trace.Tracer, InMemorySpanExporter]:
    monkeypatch.setenv("TRADEOPS_TRACE_SAMPLE_RATIO", ratio)
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler_from_env())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("t"), exporter


def _remote_parent(sampled: bool) -> Context:
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    parent = SpanContext(0x1234, 0x5678, is_remote=True, trace_flags=flags)
    return trace.set_span_in_context(NonRecordingSpan(parent))


def test_ratio_zero_records_no_new_trace_but_follows_a_sampled_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tracer, exporter = _recorder(monkeypatch, "0")
    for _ in range(50):
        with tracer.start_as_current_span("root"):
            pass
    with tracer.start_as_current_span("continued", context=_remote_parent(sampled=True)):
        pass
    assert [span.name for span in exporter.get_finished_spans()] == ["continued"]


def test_ratio_one_records_every_new_trace_but_not_an_unsampled_callers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tracer, exporter = _recorder(monkeypatch, "1")
    with tracer.start_as_current_span("root"):
        pass
    with tracer.start_as_current_span("declined", context=_remote_parent(sampled=False)):
        pass
    assert [span.name for span in exporter.get_finished_spans()] == ["root"]


def test_a_share_samples_about_that_share(monkeypatch: pytest.MonkeyPatch) -> None:
    tracer, exporter = _recorder(monkeypatch, "0.25")
    for _ in range(2000):
        with tracer.start_as_current_span("root"):
            pass
    assert 350 < len(exporter.get_finished_spans()) < 650


@pytest.mark.parametrize("bad", ["1.5", "-0.1", "half"])
def test_a_bad_ratio_is_a_clear_settings_error(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("TRADEOPS_TRACE_SAMPLE_RATIO", bad)
    with pytest.raises(SettingsError, match="between 0 and 1"):
        sampler_from_env()
