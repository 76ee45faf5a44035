"""OpenTelemetry wiring. Exporters follow the standard OTEL_* variables: spans go to OTLP/HTTP
when OTEL_TRACES_EXPORTER is "otlp" (or OTEL_EXPORTER_OTLP_ENDPOINT is set), nowhere otherwise.
W3C trace context is the propagator.

Sampling: TRADEOPS_TRACE_SAMPLE_RATIO (0 to 1) samples that share of new traces and follows the
caller's decision for continued ones (parent-based), so a trace is whole or absent, never
half-recorded across services. Unset, OTEL_TRACES_SAMPLER / _ARG apply (SDK default: parent-
based, always on). With neither set and no exporter, a process records no span of a trace it
starts (nothing would receive it) but still gives it a trace id, which log lines, outbox events
and the calls it makes carry (over gRPC by hand, runtime.trace_context, rather than through the
gRPC instrumentation, whose wrappers would only make unrecorded spans). TRADEOPS_TRACING=off
installs no instrumentation at all: even unsampled, instrumentation costs each request its
wrappers."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from opentelemetry import context, metrics, propagate, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler, TraceIdRatioBased

from runtime import trace_context
from runtime.settings import SettingsError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


def tracing_enabled() -> bool:
    return os.environ.get("TRADEOPS_TRACING", "on").lower() != "off"


def sampler_from_env() -> Sampler | None:
    """ParentBased(TraceIdRatioBased(r)) from TRADEOPS_TRACE_SAMPLE_RATIO; None: SDK default."""
    raw = os.environ.get("TRADEOPS_TRACE_SAMPLE_RATIO", "")
    if not raw:
        return None
    try:
        ratio = float(raw)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise SettingsError(f"TRADEOPS_TRACE_SAMPLE_RATIO must be between 0 and 1, not {raw!r}")
    return ParentBased(TraceIdRatioBased(ratio))


def setup_tracing(service_name: str) -> TracerProvider:
    provider = tracer_provider(service_name)
    trace.set_tracer_provider(provider)
    return provider


def tracer_provider(service_name: str) -> TracerProvider:
    """The process's provider: its sampler (see the module's doc) and, when wanted, its exporter."""
    # Without an exporter or a chosen sampler, spans would be recorded for nothing on every
    # request. A caller that sampled its trace still has it continued and recorded (parent-based).
    sampler = sampler_from_env() if records_new_traces() else ParentBased(ALWAYS_OFF)
    resource = Resource.create({"service.name": service_name})
    provider = TracerProvider(resource=resource, sampler=sampler)
    if _otlp_wanted():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def setup_metrics(service_name: str) -> MeterProvider:
    """Metrics go to OTLP/HTTP when OTEL_METRICS_EXPORTER is "otlp" (or an OTLP endpoint is
    set), and to a Prometheus scrape endpoint (`GET /metrics`) when TRADEOPS_METRICS_PORT is set
    (host TRADEOPS_METRICS_HOST, default 127.0.0.1). Both may be on at once."""
    readers: list[MetricReader] = []
    if _otlp_wanted("OTEL_METRICS_EXPORTER"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    port = os.environ.get("TRADEOPS_METRICS_PORT", "")
    if port:
        readers.append(_prometheus(int(port), os.environ.get("TRADEOPS_METRICS_HOST", "127.0.0.1")))
    resource = Resource.create({"service.name": service_name})
    provider = MeterProvider(resource=resource, metric_readers=readers)
    metrics.set_meter_provider(provider)
    return provider


def _prometheus(port: int, host: str) -> MetricReader:
    """A reader that renders on each scrape (nothing is computed between scrapes), served by
    prometheus_client's own HTTP server thread."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from prometheus_client import start_http_server

    reader = PrometheusMetricReader()
    start_http_server(port, addr=host)
    return reader


def _otlp_wanted(variable: str = "OTEL_TRACES_EXPORTER") -> bool:
    exporter = os.environ.get(variable, "")
    if exporter:
        return "otlp" in exporter.split(",")
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def records_new_traces() -> bool:
    """Whether this process records the traces it starts: an exporter, or a sampler chosen."""
    chosen = os.environ.get("TRADEOPS_TRACE_SAMPLE_RATIO") or os.environ.get("OTEL_TRACES_SAMPLER")
    return bool(chosen) or _otlp_wanted()


def instrument_grpc() -> None:
    """Client and server interceptors for every grpc.aio channel and server created after; in a
    process that records no span of its own, the trace context carried by hand instead."""
    if not tracing_enabled():
        return
    if not records_new_traces():
        trace_context.carry()
        return
    from opentelemetry.instrumentation.grpc import (
        GrpcAioInstrumentorClient,
        GrpcAioInstrumentorServer,
    )

    GrpcAioInstrumentorServer().instrument()  # type: ignore[no-untyped-call]
    GrpcAioInstrumentorClient().instrument()  # type: ignore[no-untyped-call]


def instrument_engine(engine: AsyncEngine) -> None:
    if not tracing_enabled():
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine)


def shutdown_tracing() -> None:
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
    meters = metrics.get_meter_provider()
    if isinstance(meters, MeterProvider):
        meters.shutdown()


def current_trace_id() -> str:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else ""


def current_traceparent() -> str:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent", "")


def context_from_traceparent(traceparent: str) -> Any:
    """A context whose parent is the stored span, so later work joins the original trace."""
    if not traceparent:
        return context.get_current()
    return propagate.extract({"traceparent": traceparent})
