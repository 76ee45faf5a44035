"""The in-process OpsService every gRPC test talks to, with a clock the test moves by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import start
from runtime.settings import AuthSettings
from services.ops.grpc_api.servicer import spec
from tests.keys import verifier_for
from tests.ops.helpers import NOW
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc

# Far ahead of every action other tests commit at the real time, so "newest first" is ours.
START = NOW.replace(year=NOW.year + 20)


class HandClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def hand_clock() -> HandClock:
    return HandClock()


@pytest.fixture
async def ops(
    ops_db: Database, auth_settings: AuthSettings, hand_clock: HandClock
) -> AsyncIterator[pb_grpc.OpsServiceAsyncStub]:
    served = spec(ops_db, lambda: None, clock=hand_clock)
    running = await start(served, "127.0.0.1:0", verifier_for(served, auth_settings))
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield pb_grpc.OpsServiceStub(channel)
    finally:
        await channel.close(None)
        await running.stop(0)
