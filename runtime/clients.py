"""gRPC client channels between services. Every call carries a deadline and a bearer token."""

from __future__ import annotations

import os

import grpc

from runtime.grpc_server import MAX_MESSAGE_BYTES
from runtime.tls import TlsFiles

OPTIONS = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
)


def open_channel(address: str) -> grpc.aio.Channel:
    """Mutual TLS with this process's certificate when TRADEOPS_TLS_DIR is set (runtime.tls)."""
    tls = TlsFiles.from_env(os.environ)
    if tls is None:
        return grpc.aio.insecure_channel(address, options=OPTIONS)
    return grpc.aio.secure_channel(address, tls.channel_credentials(), options=OPTIONS)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)
