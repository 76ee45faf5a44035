"""Helpers shared by the benchmarks; import-only (`make bench` must skip bench/_*.py).

A durable (fsync on) private PostgreSQL per run, scratch folders, the synthetic events and the
RESULT line. The service process is in _service.py, the cached populated log in _populated.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from runtime.canonical import canonical_json
from runtime.migrate import upgrade
from runtime.pgserver import LocalPostgres
from runtime.provision import owner_url, provision, service_url

REPO = Path(__file__).resolve().parents[1]
ORIGIN = "tradeops.local/audit"  # the service's default TRADEOPS_AUDIT_ORIGIN
CACHE = Path(os.environ.get("TRADEOPS_BENCH_CACHE", "/tmp/tradeops-bench-cache"))


@dataclass(frozen=True)
class Cluster:
    server: LocalPostgres
    admin_url: str  # superuser, database "tradeops"
    audit_url: str  # the audit service's own role


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=f"tradeops-bench-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres(datadir: Path) -> Iterator[Cluster]:
    """A durable server on datadir (created, or reused as it is), provisioned and migrated."""
    server = LocalPostgres(datadir, durable=True)
    server.start()
    try:
        provision(server.url())
        audit_url = service_url(server.url(), "audit")
        upgrade("audit", owner_url(server.url(), "audit"))
        yield Cluster(server, server.url(database="tradeops"), audit_url)
    finally:
        server.stop()


@dataclass(frozen=True)
class Fields:
    """One synthetic event, deterministic in its index: what a desk's services send."""

    event_id: str
    actor: dict[str, object]
    action: str
    target: str
    trace_id: str
    payload_json: str


OCCURRED_AT = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
_ACTIONS = ("ops.action.approved", "agent.triage.proposed", "export.bundle.signed")


def fields(index: int) -> Fields:
    payload = {
        "action_id": f"act-{index:09d}",
        "desk": "rates-emea",
        "instrument": "EURIBOR-3M",
        "notional": 1_000_000 + index,
        "note": "approved after four-eyes review of the proposed hedge",
    }
    return Fields(
        event_id=str(uuid.UUID(int=(0xBE0C << 112) | index)),
        actor={"subject": f"user-{index % 97}", "roles": ["ops"], "kind": "person"},
        action=_ACTIONS[index % len(_ACTIONS)],
        target=f"action/{index // 3}",
        trace_id=f"{index:032x}",
        payload_json=canonical_json(payload),
    )


def copy_tree(source: Path, target: Path) -> None:
    """A data folder copy keeping owners (the server may run as another OS user)."""
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)


def result(name: str, figure: float, unit: str, baseline: float, target: str, ok: bool) -> None:
    ratio = figure / baseline if baseline else 0.0
    print(
        f"RESULT name={name} figure={figure:.1f} unit={unit} baseline={baseline:.1f}"
        f" ratio={ratio:.3f} target={target} pass={str(ok).lower()}",
        flush=True,
    )
