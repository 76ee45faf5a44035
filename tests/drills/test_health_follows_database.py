"""Drill: PostgreSQL stopped and started again. Every service's gRPC health turns NOT_SERVING
(its liveness stays SERVING: restarting the pod would not bring the database back) and the
gateway's /readyz answers 503 naming the four peers (NOT_SERVING, or UNAVAILABLE from a channel
that skips replicas that are not serving); once PostgreSQL is back, SERVING and 200
again, with no process restarted. Prints the seconds each transition took."""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime.health import LIVENESS
from runtime.pgserver import LocalPostgres
from runtime.settings import SERVICES
from runtime.stack import Stack

# The services check every second with a two-second timeout (runtime.health's defaults); this
# bound leaves room for a loaded machine, not for a health that never looks.
WITHIN_S = 15.0


def health(stack: Stack, service: str, name: str = "") -> str:
    try:
        with grpc.insecure_channel(stack.address(service)) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=name), timeout=1
            )
    except grpc.RpcError as exc:
        return exc.code().name if isinstance(exc, grpc.Call) else "RpcError"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def readyz(stack: Stack) -> httpx.Response:
    return httpx.get(f"{stack.gateway_url()}/readyz", timeout=5)


def says(stack: Stack, service: str, status: str) -> Callable[[], bool]:
    return lambda: health(stack, service) == status


def seconds_until(what: str, condition: Callable[[], bool], since: float) -> float:
    while not condition():
        assert time.monotonic() - since < WITHIN_S, f"not within {WITHIN_S} s: {what}"
        time.sleep(0.05)
    return time.monotonic() - since


def test_health_turns_not_serving_without_the_database_and_serving_when_it_returns(
    stack: Stack, drill_pg: LocalPostgres
) -> None:
    pids = {name: proc.pid for name, proc in stack.procs.items()}
    assert {s: health(stack, s) for s in SERVICES} == dict.fromkeys(SERVICES, "SERVING")
    assert readyz(stack).status_code == 200
    figures: dict[str, float] = {}

    drill_pg.stop()
    stopped = time.monotonic()
    for service in SERVICES:
        what = f"{service} NOT_SERVING"
        figures[what] = seconds_until(what, says(stack, service, "NOT_SERVING"), stopped)
    figures["/readyz 503"] = seconds_until(
        "/readyz 503", lambda: readyz(stack).status_code == 503, stopped
    )
    down = readyz(stack).json()
    assert down["down"] == sorted(SERVICES), down
    # The gateway asks through its round-robin channel, which watches health: with every
    # replica NOT_SERVING it has none to send the probe to and answers UNAVAILABLE itself.
    assert set(down["peers"].values()) <= {"NOT_SERVING", "UNAVAILABLE"}, down
    assert {s: health(stack, s, LIVENESS) for s in SERVICES} == dict.fromkeys(SERVICES, "SERVING")

    drill_pg.start()
    started = time.monotonic()
    for service in SERVICES:
        what = f"{service} SERVING"
        figures[what] = seconds_until(what, says(stack, service, "SERVING"), started)
    figures["/readyz 200"] = seconds_until(
        "/readyz 200", lambda: readyz(stack).status_code == 200, started
    )

    assert stack.dead() == []
    assert {n: p.pid for n, p in stack.procs.items()} == pids, "a process was restarted"
    print("\nhealth drill, seconds after PostgreSQL stopped / started:")
    for what, seconds in figures.items():
        print(f"  {what:<22} {seconds:5.2f}")
