"""gRPC client channels between services. Every call carries a deadline and a bearer token.
A channel's address may name several replicas (runtime.targets); calls go round robin over
those that are up, and the safe ones are retried on another when one goes away
(runtime.retries)."""

from __future__ import annotations

import os

import grpc

from runtime import retries, targets, trace_context
from runtime.grpc_server import MAX_MESSAGE_BYTES
from runtime.settings import SettingsError
from runtime.tls import TlsFiles

KEEPALIVE_S = 30.0
OPTIONS = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # No more often than servers allow (runtime.grpc_server.MIN_PING_INTERVAL_S).
    ("grpc.keepalive_time_ms", int(KEEPALIVE_S * 1000)),
    # gRPC's own reconnect backoff grows to 120 s by default, and while it waits every call
    # fails at once: a peer back after a minute's outage would stay unreachable for up to two
    # more. Capped, a restarted service is reached again within a few seconds.
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 4_000),
)
SERVICE_CONFIG = ("grpc.service_config", retries.service_config())


def open_channel(address: str, peer: str = "") -> grpc.aio.Channel:
    """A channel to `address`, any target runtime.targets takes; `peer` is the process it
    reaches (`ops`, ...). Mutual TLS with this process's certificate when TRADEOPS_TLS_DIR is
    set (runtime.tls)."""
    target = targets.translate(address)
    tls = TlsFiles.from_env(os.environ)
    if tls is None:
        return grpc.aio.insecure_channel(target, options=[*OPTIONS, SERVICE_CONFIG])
    options = [*OPTIONS, SERVICE_CONFIG, *_server_name(target, peer)]
    return grpc.aio.secure_channel(target, tls.channel_credentials(), options=options)


def _server_name(target: str, peer: str) -> list[tuple[str, str]]:
    """The name each backend's certificate must carry. gRPC checks the target's host, but a
    static list has no one host: there, the peer's process name (in every certificate `tradeops
    certs` makes), or the one host every entry shares."""
    hosts = set(targets.static_hosts(target))
    if not hosts:
        return []
    name = peer or (hosts.pop() if len(hosts) == 1 else "")
    if not name:
        raise SettingsError(f"{target}: under TLS, a static list of several hosts needs the peer")
    return [("grpc.default_authority", name)]


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    """A call's metadata: the token, and the trace context when carried by hand."""
    return (("authorization", f"Bearer {token}"), *trace_context.outgoing())
