"""A service stopped while callers watch its health (round robin keeps a Watch open to every
replica, runtime.retries): each watcher hears NOT_SERVING and then a clean end of the stream,
and the process's output stays one JSON object per line, with no error."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.keys import Keys

WATCHERS = 3


async def _watch(port: int, seen: list[str], opened: asyncio.Queue[None]) -> grpc.StatusCode:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stream = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
        try:
            async for reply in stream:
                seen.append(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
                opened.put_nowait(None)
        except grpc.aio.AioRpcError as exc:
            code: grpc.StatusCode = exc.code()
            return code
        code = await stream.code()
        return code


async def _stop_while_watched(server: subprocess.Popen[str], port: int) -> list[object]:
    seen: list[list[str]] = [[] for _ in range(WATCHERS)]
    opened: asyncio.Queue[None] = asyncio.Queue()
    watchers = [asyncio.create_task(_watch(port, each, opened)) for each in seen]
    for _ in seen:  # every watcher has its first answer: the streams are open
        await asyncio.wait_for(opened.get(), 10)
    server.send_signal(signal.SIGTERM)
    codes = await asyncio.wait_for(asyncio.gather(*watchers), 15)
    return [(code, statuses) for code, statuses in zip(codes, seen, strict=True)]


def test_watchers_hear_not_serving_then_a_clean_end_and_nothing_is_logged_raw(keys: Keys) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.runtime.stopping_server"],
        env=keys.env() | {"PYTHONPATH": "."},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        ended = asyncio.run(_stop_while_watched(server, port))
        output = server.communicate(timeout=20)[0]
    finally:
        server.kill()
    assert ended == [(grpc.StatusCode.OK, ["SERVING", "NOT_SERVING"])] * WATCHERS
    assert server.returncode == 0, output
    lines = [json.loads(line) for line in output.splitlines()]  # every line one JSON object
    assert [line["message"] for line in lines if line["level"] != "INFO"] == []
