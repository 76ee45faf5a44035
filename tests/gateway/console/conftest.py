"""Two real audit processes, on a PostgreSQL of these tests' own, for the console's live feed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from gateway.peers import Peers
from runtime.pgserver import LocalPostgres, free_port
from runtime.stack import Stack
from tests.audit.watch.conftest import audit_pg
from tests.audit.watch.replicas import audit_processes
from tests.keys import Keys


@pytest.fixture(scope="session")
def own_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    with audit_pg(tmp_path_factory.mktemp("live-pg") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def audit(
    own_pg: LocalPostgres, tmp_path_factory: pytest.TempPathFactory, keys: Keys
) -> Iterator[Stack]:
    """audit-1 and audit-2, heartbeats every second; a test that stops them starts them again."""
    home = tmp_path_factory.mktemp("live-audit")
    with audit_processes(own_pg, home, keys, replicas=2, HEARTBEAT_S="1") as stack:
        yield stack


@pytest.fixture
async def peers(audit: Stack) -> AsyncIterator[Peers]:
    """The gateway's peers: both audit replicas (round robin), nothing where the others are."""
    nowhere = f"127.0.0.1:{free_port()}"
    addresses = {"audit": audit.address("audit"), "agent": nowhere, "ops": nowhere}
    opened = Peers.open({**addresses, "export": nowhere})
    yield opened
    await opened.close()
