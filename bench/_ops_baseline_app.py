"""The decisions benchmark's baselines; run as its own process, never by `make bench`: a tiny
FastAPI app on uvicorn (one worker, logging as the gateway does) with two endpoints, each making
one gRPC call: `/trivial/{id}` to a servicer that answers at once (bench/_trivial_servicer.py,
the target's baseline), `/baseline/{id}` GetAction to the real ops service (the caller's bearer
token forwarded: one read through its guard and ORM). Configured by BENCH_OPS_ADDR,
BENCH_TRIVIAL_ADDR and BENCH_PORT."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request

from runtime.clients import open_channel
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc


async def get_action(
    stub: pb_grpc.OpsServiceAsyncStub, action_id: str, request: Request
) -> dict[str, str]:
    """One GetAction with the caller's bearer token forwarded, as the gateway forwards it."""
    metadata = (("authorization", request.headers.get("authorization", "")),)
    action = await stub.GetAction(pb.GetActionRequest(id=action_id), timeout=5, metadata=metadata)
    return {"id": action.id, "state": pb.ActionState.Name(action.state)}


def create_app(ops_address: str, trivial_address: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        channel, floor = open_channel(ops_address), open_channel(trivial_address)
        app.state.ops = pb_grpc.OpsServiceStub(channel)
        app.state.trivial = pb_grpc.OpsServiceStub(floor)
        yield
        await channel.close(None)
        await floor.close(None)

    app = FastAPI(lifespan=lifespan)

    @app.post("/baseline/{action_id}")
    async def through_ops(action_id: str, request: Request) -> dict[str, str]:
        return await get_action(request.app.state.ops, action_id, request)

    @app.post("/trivial/{action_id}")
    async def through_floor(action_id: str, request: Request) -> dict[str, str]:
        return await get_action(request.app.state.trivial, action_id, request)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    uvicorn.run(
        create_app(os.environ["BENCH_OPS_ADDR"], os.environ["BENCH_TRIVIAL_ADDR"]),
        host="127.0.0.1",
        port=int(os.environ["BENCH_PORT"]),
        log_level="info",
    )
