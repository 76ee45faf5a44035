"""Audit processes for the WatchRecords tests: `python -m services.audit` as runtime.stack
starts it (one replica per address), on a PostgreSQL of the tests' own, with the watch
settings given (TRADEOPS_AUDIT_WATCH_<NAME>)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from runtime.pgserver import LocalPostgres, free_port
from runtime.provision import service_url
from runtime.stack import Stack
from tests.keys import Keys

QUIET = {
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_METRICS_EXPORTER": "none",
    "TRADEOPS_TRACING": "off",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "",
}


def audit_env(
    pg: LocalPostgres, home: Path, keys: Keys, replicas: int, watch: Mapping[str, str]
) -> dict[str, str]:
    addresses = ",".join(f"127.0.0.1:{free_port()}" for _ in range(replicas))
    return {
        **os.environ,
        **keys.env(),
        **QUIET,
        "TRADEOPS_AUDIT_DATABASE_URL": service_url(pg.url(), "audit"),
        "TRADEOPS_AUDIT_ADDR": addresses,
        "TRADEOPS_AUDIT_METRICS_PORT": str(free_port()),
        # Every process on one database signs with the same keys: the first makes the file
        # beside the database's folder, the others read it.
        "TRADEOPS_AUDIT_SIGNING_KEYS_FILE": str(pg.datadir.parent / "audit-signing-keys.json"),
        "TRADEOPS_AUDIT_CREATE_DEV_KEYS": "1",
        **{f"TRADEOPS_AUDIT_WATCH_{name}": value for name, value in watch.items()},
    }


@contextmanager
def audit_processes(
    pg: LocalPostgres, home: Path, keys: Keys, replicas: int = 1, **watch: str
) -> Iterator[Stack]:
    """`replicas` audit processes (named audit, or audit-1, audit-2, ...), each SERVING when
    the block starts; every one still running is stopped (SIGTERM) when it ends."""
    stack = Stack(audit_env(pg, home, keys, replicas, watch), home / "logs")
    stack.log_dir.mkdir(parents=True, exist_ok=True)
    try:
        for name in stack.replicas("audit"):
            stack.start_one(name)
        yield stack
    finally:
        stack.stop()
