"""Runs the four services and the gateway as separate processes and waits until each answers
its health check. Used by `make run` and by the end-to-end tests, so both start the system the
same way.

A service whose TRADEOPS_<SVC>_ADDR is a static list of several addresses (runtime.targets)
runs as one replica per address, named `ops-1`, `ops-2`, ... (each listening on its own entry,
all sharing the database and the export directory); its peers reach them all through the
list. Only the first replica of a service gets its TRADEOPS_<SVC>_METRICS_PORT."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime.settings import peer_addresses
from runtime.targets import static_entries
from runtime.tls import TlsFiles

ORDER = ("audit", "ops", "agent", "export", "gateway")
READY_TIMEOUT_S = 60.0


class Stack:
    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in self.processes():
            self.start_one(name)

    def processes(self) -> list[str]:
        """Every process, in the order they start: a service's replicas, then the next's."""
        return [name for service in ORDER for name in self.replicas(service)]

    def replicas(self, service: str) -> dict[str, str]:
        """A service's processes, each with the address it listens on."""
        if service == "gateway":
            return {"gateway": ""}
        entries = static_entries(self.address(service))
        if len(entries) < 2:
            return {service: self.address(service)}
        return {f"{service}-{n}": entry for n, entry in enumerate(entries, 1)}

    def _own_address(self, name: str) -> str:
        return self.replicas(name.rpartition("-")[0] or name)[name]

    def start_one(self, name: str) -> None:
        service = name.rpartition("-")[0] or name
        module = "gateway" if name == "gateway" else f"services.{service}"
        env = {**self.env, **self._listen_env(name)}
        with (self.log_dir / f"{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", module],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stopped in order by stop(), not by the terminal's Ctrl-C
            )
        self.wait_ready(name)

    def _listen_env(self, name: str) -> dict[str, str]:
        env = {}
        service, _, replica = name.rpartition("-") if "-" in name else (name, "", "")
        # One variable per process (TRADEOPS_AUDIT_METRICS_PORT, ...): they share one environment.
        metrics_port = self.env.get(f"TRADEOPS_{service.upper()}_METRICS_PORT")
        if metrics_port and replica in ("", "1"):
            env["TRADEOPS_METRICS_PORT"] = metrics_port
        if name != "gateway":
            env["TRADEOPS_GRPC_LISTEN"] = self._own_address(name)
        if self.env.get("TRADEOPS_TLS_DIR"):
            env["TRADEOPS_TLS_NAME"] = service
        return env

    def metrics_url(self, name: str) -> str:
        """The process's Prometheus endpoint; empty when it has none."""
        port = self.env.get(f"TRADEOPS_{name.upper()}_METRICS_PORT")
        host = self.env.get("TRADEOPS_METRICS_HOST", "127.0.0.1")
        return f"http://{host}:{port}/metrics" if port else ""

    def address(self, name: str) -> str:
        return peer_addresses(self.env)[name]

    def gateway_url(self) -> str:
        host = self.env.get("TRADEOPS_GATEWAY_HOST", "127.0.0.1")
        return f"http://{host}:{self.env.get('TRADEOPS_GATEWAY_PORT', '8000')}"

    def wait_ready(self, name: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self._check_alive(name)
            if self._ready(name):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become ready; see {self.log_dir / (name + '.log')}")

    def _check_alive(self, name: str) -> None:
        if self.procs[name].poll() is not None:
            tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited with {self.procs[name].returncode}:\n{tail}")

    def _ready(self, name: str) -> bool:
        if name == "gateway":
            try:
                return httpx.get(f"{self.gateway_url()}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False
        return grpc_serving(self._own_address(name), self._client_tls)

    @functools.cached_property
    def _client_tls(self) -> TlsFiles | None:
        # Read once: readiness is polled every 0.1 s per starting process.
        return TlsFiles.from_env({**self.env, "TRADEOPS_TLS_NAME": "cli"})

    def dead(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def stop_one(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        for name in reversed(self.processes()):
            self.stop_one(name)

    def __enter__(self) -> Stack:
        """Started; stopped when the block ends, even when starting failed halfway."""
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def grpc_serving(address: str, tls: TlsFiles | None = None) -> bool:
    try:
        with _channel(address, tls) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
    except grpc.RpcError:
        return False


def _channel(address: str, tls: TlsFiles | None) -> grpc.Channel:
    if tls is None:
        return grpc.insecure_channel(address)
    return grpc.secure_channel(address, tls.channel_credentials())
