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
from runtime.telemetry import current_traceparent, sampler_from_env, tracer_provider


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


def _provider(monkeypatch: pytest.MonkeyPatch, **env: str) -> TracerProvider:
    for name in (
        "TRADEOPS_TRACE_SAMPLE_RATIO",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return tracer_provider("tradeops-test")


def test_without_an_exporter_a_new_trace_is_not_recorded_but_has_an_id_to_pass_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = _provider(monkeypatch)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("root") as root:
        context = root.get_span_context()
        assert not root.is_recording()
        assert context.is_valid
        assert not context.trace_flags.sampled
        _version, trace_id, span_id, flags = current_traceparent().split("-")
        assert (trace_id, span_id) == (f"{context.trace_id:032x}", f"{context.span_id:016x}")
        assert int(flags, 16) & 1 == 0  # passed on as not sampled
    with tracer.start_as_current_span("continued", context=_remote_parent(sampled=True)):
        pass
    assert [span.name for span in exporter.get_finished_spans()] == ["continued"]
    provider.shutdown()


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
        {"OTEL_TRACES_SAMPLER": "always_on"},
        {"TRADEOPS_TRACE_SAMPLE_RATIO": "1"},
    ],
)
def test_an_exporter_or_a_chosen_sampler_records_new_traces(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    provider = _provider(monkeypatch, **env)
    with provider.get_tracer("t").start_as_current_span("root") as root:
        assert root.is_recording()
        assert root.get_span_context().trace_flags.sampled
    provider.shutdown()
