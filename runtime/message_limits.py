"""How large a request may be: the REST body limit, and the gRPC message limit derived from it."""

from __future__ import annotations

from collections.abc import Mapping


def max_body_bytes(env: Mapping[str, str]) -> int:
    return int(env.get("TRADEOPS_MAX_BODY_BYTES", str(64 * 1024)))


def grpc_message_limit(name: str, env: Mapping[str, str]) -> int:
    """The largest gRPC request a service accepts: twice the REST body limit, so a desk system
    calling gRPC directly gets no more room than through REST (the factor covers the few shapes
    whose protobuf outgrows their JSON, and what the gateway adds). Audit is called by the other
    services only, and the relays' batches need more: it keeps 4 MiB
    (runtime.relay cuts a batch into requests of at most 3 MiB)."""
    if name == "audit":
        return 4 * 1024 * 1024
    return 2 * max_body_bytes(env)
