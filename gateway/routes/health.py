"""Probes, without authentication: /healthz says the process is alive, /readyz asks each peer's
standard gRPC health service (short deadline, all at once) and names the peers that are down."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Literal

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from grpc_health.v1 import health_pb2
from pydantic import BaseModel, Field

from gateway.peers import Peers

router = APIRouter(tags=["health"])

PROBE_TIMEOUT_S = 1.0
SERVING = "SERVING"


class Alive(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    peers: dict[str, str] = Field(description="Each peer's health status, or the gRPC error code")
    down: list[str] = Field(description="The peers not SERVING, by name")


READY = {"status": "ready", "peers": {"agent": SERVING, "ops": SERVING}, "down": []}
DOWN = {"status": "unavailable", "peers": {"agent": SERVING, "ops": "UNAVAILABLE"}, "down": ["ops"]}


def _example(body: Mapping[str, object]) -> dict[str, object]:
    return {"application/json": {"example": body}}


@router.get(
    "/healthz", response_model=Alive, responses={200: {"content": _example({"status": "ok"})}}
)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={
        200: {"content": _example(READY)},
        503: {"model": Readiness, "description": "A peer is down", "content": _example(DOWN)},
    },
)
async def readyz(request: Request) -> JSONResponse:
    peers: Peers = request.app.state.peers
    deadline = min(PROBE_TIMEOUT_S, request.app.state.settings.rpc_timeout_s)
    names = list(peers.channels)
    states = await asyncio.gather(*(_probe(peers, name, deadline) for name in names))
    report = dict(zip(names, states, strict=True))
    down = sorted(name for name, state in report.items() if state != SERVING)
    body = {"status": "unavailable" if down else "ready", "peers": report, "down": down}
    return JSONResponse(body, status_code=503 if down else 200)


async def _probe(peers: Peers, name: str, deadline_s: float) -> str:
    try:
        reply = await peers.health(name).Check(health_pb2.HealthCheckRequest(), timeout=deadline_s)
    except grpc.aio.AioRpcError as exc:
        return exc.code().name
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
