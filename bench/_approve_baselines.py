"""The approvals benchmark's baseline processes; import-only (`make bench` skips bench/_*.py):
the trivial servicer (bench/_trivial_servicer.py) and the tiny FastAPI app calling it or ops
(bench/_ops_baseline_app.py), each its own process, logging into the system's log folder."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from _ops_stack import System

from runtime.pgserver import free_port
from runtime.stack import grpc_serving

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Baselines:
    url: str  # the FastAPI app: /trivial/{id} and /baseline/{id}
    pids: dict[str, int]  # "baseline app", "trivial servicer"


@contextlib.contextmanager
def baselines(sys_: System) -> Iterator[Baselines]:
    trivial, port = f"127.0.0.1:{free_port()}", free_port()
    env = {
        **sys_.stack.env,
        "BENCH_OPS_ADDR": sys_.stack.address("ops"),
        "BENCH_TRIVIAL_ADDR": trivial,
        "BENCH_PORT": str(port),
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(_spawn(sys_, "_trivial_servicer.py", env))
        _wait(lambda: grpc_serving(trivial), "trivial servicer")
        procs.append(_spawn(sys_, "_ops_baseline_app.py", env))
        _wait(lambda: _healthy(port), "baseline app")
        pids = {"baseline app": procs[1].pid, "trivial servicer": procs[0].pid}
        yield Baselines(f"http://127.0.0.1:{port}", pids)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(20)


def _spawn(sys_: System, script: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = (sys_.home / "logs" / f"{script.strip('_.py')}.log").open("ab")
    return subprocess.Popen([sys.executable, str(HERE / script)], env=env, stdout=log, stderr=log)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(ready: Callable[[], bool], what: str) -> None:
    for _ in range(200):
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")
