"""W3C trace context over gRPC metadata, carried by hand in a process that records no span of
its own traces (runtime.telemetry: tracing on, no exporter, no sampler chosen). There the
OpenTelemetry gRPC instrumentation would wrap every call, on both sides, to make spans nobody
records; this carries just the `traceparent`: runtime.clients.bearer adds the current one to
a call's metadata and the server's guard (runtime.grpc_guard) makes the caller's current for
the handler, so log lines and outbox events keep the trace id end to end.

Off (the default, and whenever the instrumentation is installed) it adds and reads nothing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, propagate

_carrying = False


def carry() -> None:
    """Called once at start (runtime.telemetry.instrument_grpc)."""
    global _carrying
    _carrying = True


def outgoing() -> tuple[tuple[str, str], ...]:
    """The current trace context as metadata entries, when carrying."""
    if not _carrying:
        return ()
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return tuple(carrier.items())


@contextmanager
def incoming(metadata: Mapping[str, str]) -> Iterator[None]:
    """The caller's trace context (from the call's metadata) is current inside the block."""
    if not _carrying or "traceparent" not in metadata:
        yield
        return
    token = context.attach(propagate.extract(metadata))
    try:
        yield
    finally:
        context.detach(token)
