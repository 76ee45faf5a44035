"""An in-process ProbeService on a real port, refusals recorded as the agent process does."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import start
from runtime.outbox import refusal_recorder
from runtime.settings import AuthSettings
from services.agent.probes.grpc_api.servicer import spec
from services.agent.tables import outbox
from tests.agent.probes.helpers import Clock
from tests.keys import verifier_for
from tradeops.agent.v1 import probe_service_pb2_grpc as pb_grpc


@asynccontextmanager
async def serving(db: Database, auth: AuthSettings, clock: Clock) -> AsyncIterator[str]:
    served = dataclasses.replace(
        spec(db, clock=clock), on_refused=refusal_recorder(db, outbox, "agent")
    )
    running = await start(served, "127.0.0.1:0", verifier_for(served, auth))
    try:
        yield f"127.0.0.1:{running.port}"
    finally:
        await running.stop(0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def probe_address(
    agent_db: Database, auth_settings: AuthSettings, clock: Clock
) -> AsyncIterator[str]:
    async with serving(agent_db, auth_settings, clock) as address:
        yield address


@pytest.fixture
async def probes(probe_address: str) -> AsyncIterator[pb_grpc.ProbeServiceAsyncStub]:
    channel = open_channel(probe_address)
    try:
        yield pb_grpc.ProbeServiceStub(channel)
    finally:
        await channel.close(None)
