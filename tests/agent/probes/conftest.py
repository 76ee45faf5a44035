from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.agent.probes.desk import Desk, running_desk
from tests.agent.probes.served import clock, probe_address, probes

__all__ = ["clock", "probe_address", "probes"]


@pytest.fixture
def desk() -> Iterator[Desk]:
    with running_desk() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client
