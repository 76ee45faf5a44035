"""gRPC client channels between services. Every call carries a deadline and a bearer token."""

from __future__ import annotations

import os

import grpc

from runtime import trace_context
from runtime.grpc_server import MAX_MESSAGE_BYTES
from runtime.tls import TlsFiles

OPTIONS = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    # gRPC's own reconnect backoff grows to 120 s by default, and while it waits every call
    # fails at once: a peer back after a minute's outage would stay unreachable for up to two
    # more. Capped, a restarted service is reached again within a few seconds.
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 4_000),
)


def open_channel(address: str) -> grpc.aio.Channel:
    """Mutual TLS with this process's certificate when TRADEOPS_TLS_DIR is set (runtime.tls)."""
    tls = TlsFiles.from_env(os.environ)
    if tls is None:
        return grpc.aio.insecure_channel(address, options=OPTIONS)
    return grpc.aio.secure_channel(address, tls.channel_credentials(), options=OPTIONS)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    """A call's metadata: the token, and the trace context when carried by hand."""
    return (("authorization", f"Bearer {token}"), *trace_context.outgoing())
