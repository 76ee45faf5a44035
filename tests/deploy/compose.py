"""docker-compose.yml run as an operator runs it: Debian's docker-compose with the env file
`tradeops deploy init` wrote, under a project name of its own, the gateway published on a free
port of 127.0.0.1. Images come from tests/deploy/engine.sh's local bases."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BASE_IMAGE = "tradeops-base:bookworm"
POSTGRES_IMAGE = "tradeops-postgres:15"
LONG_RUNNING = ("postgres", "agent", "ops", "export", "audit", "gateway")
TIMINGS: dict[str, float] = {}  # printed at the end of the run (conftest.py)


def timed(what: str, work: Callable[[], object]) -> None:
    start = time.monotonic()
    work()
    TIMINGS[what] = time.monotonic() - start


@dataclass
class Compose:
    project: str
    secrets: Path
    port: int
    image_tag: str
    log: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": str(ROOT),
            "LANG": "C.UTF-8",
            "TRADEOPS_BASE_IMAGE": BASE_IMAGE,
            "TRADEOPS_POSTGRES_IMAGE": POSTGRES_IMAGE,
            "TRADEOPS_IMAGE_TAG": self.image_tag,
            "TRADEOPS_GATEWAY_PUBLISH": f"127.0.0.1:{self.port}",
        }

    def run(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        command = [
            "docker-compose",
            *("--project-name", self.project),
            *("--env-file", str(self.secrets / "compose.env")),
            *("--file", str(ROOT / "docker-compose.yml")),
            *args,
        ]
        done = subprocess.run(
            command, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        self.log.append(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}")
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
        return done.stdout

    def container(self, service: str) -> str:
        found = self.run("ps", "-q", service).split()
        assert len(found) == 1, f"{service}: containers {found}"
        return found[0]

    def states(self) -> dict[str, str]:
        """Each service's state: while running, its health if it has a check; else the Docker
        state and exit code (a stopped container keeps its last health)."""
        ids = self.run("ps", "-q", "--all").split()
        if not ids:
            return {}
        shown = subprocess.run(
            ["docker", "inspect", *ids], capture_output=True, text=True, check=True
        )
        states = {}
        for item in json.loads(shown.stdout):
            name = item["Config"]["Labels"]["com.docker.compose.service"]
            state = item["State"]
            health = state.get("Health", {}).get("Status")
            running = state["Status"] == "running"
            states[name] = (running and health) or f"{state['Status']} ({state['ExitCode']})"
        return states

    def wait_healthy(self, services: tuple[str, ...] = LONG_RUNNING, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.states()
            if states.get("migrate") not in (None, "exited (0)"):
                break  # a failed migration never turns healthy: fail now, with the logs
            if all(states.get(name) == "healthy" for name in services):
                return
            time.sleep(1)
        tail = self.run("logs", "--no-color", "--tail", "40", check=False)
        raise AssertionError(f"not healthy within {timeout} s: {self.states()}\n{tail}")

    def copy_out(self, service: str, path: str, into: Path) -> Path:
        """`docker cp` of a path inside the service's container (docker-compose 1.29 has no cp)."""
        subprocess.run(
            ["docker", "cp", f"{self.container(service)}:{path}", str(into)],
            capture_output=True,
            check=True,
        )
        return into

    def up(self, *services: str) -> None:
        self.run("up", "-d", "--no-build", *services)
        self.wait_healthy()

    def start(self, service: str) -> None:
        self.run("start", service)
        self.wait_healthy()

    def down(self) -> None:
        self.run("down", "--volumes", "--remove-orphans", "--timeout", "10", check=False)
