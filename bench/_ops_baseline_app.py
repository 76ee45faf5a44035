"""The decisions benchmark's baseline; run as its own process, never by `make bench`: a tiny
FastAPI app on uvicorn (one worker, logging as the gateway does) whose one endpoint makes one
trivial gRPC call (GetAction, the caller's bearer token forwarded) to the same ops service.
Configured by BENCH_OPS_ADDR and BENCH_PORT."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request

from runtime.clients import open_channel
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc


def create_app(ops_address: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        channel = open_channel(ops_address)
        app.state.ops = pb_grpc.OpsServiceStub(channel)
        yield
        await channel.close(None)

    app = FastAPI(lifespan=lifespan)

    @app.post("/baseline/{action_id}")
    async def trivial(action_id: str, request: Request) -> dict[str, str]:
        metadata = (("authorization", request.headers.get("authorization", "")),)
        action = await request.app.state.ops.GetAction(
            pb.GetActionRequest(id=action_id), timeout=5, metadata=metadata
        )
        return {"id": action.id, "state": pb.ActionState.Name(action.state)}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    uvicorn.run(
        create_app(os.environ["BENCH_OPS_ADDR"]),
        host="127.0.0.1",
        port=int(os.environ["BENCH_PORT"]),
        log_level="info",
    )
