"""`make test-deploy`: docker-compose.yml on a real Docker engine. Collected only when
TRADEOPS_TEST_DEPLOY=1 (the Makefile target sets it), so `make test` does not build images.

The engine, the local base images and the deployment are made once per session; the stack is
always taken down (`down --volumes`), and dockerd stopped if this session started it. Timings
(engine, build, up to healthy) are printed at the end of the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime.pgserver import free_port
from tests.deploy.compose import ROOT, TIMINGS, Compose, timed

OUT = ROOT / ".tradeops" / "test-deploy"

if os.environ.get("TRADEOPS_TEST_DEPLOY") != "1":
    collect_ignore_glob = ["test_*.py"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("test-deploy timings")
        for what, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{what:<28} {seconds:6.1f} s")


@pytest.fixture(scope="session")
def engine() -> Iterator[None]:
    OUT.mkdir(parents=True, exist_ok=True)
    result: list[str] = []

    def start() -> None:
        done = subprocess.run(
            ["bash", str(ROOT / "tests" / "deploy" / "engine.sh"), str(OUT)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert done.returncode == 0, f"tests/deploy/engine.sh failed:\n{done.stderr}"
        result.extend(done.stdout.split())

    timed("engine and base images", start)
    yield
    if result[-1:] == ["started"]:
        _stop_dockerd(OUT / "dockerd.pid")


def _stop_dockerd(pid_file: Path) -> None:
    pid = int(pid_file.read_text())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.2)


@pytest.fixture(scope="session")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make compose-secrets` makes, in a folder of the session's own."""
    folder = tmp_path_factory.mktemp("compose") / "secrets"
    made = subprocess.run(
        [sys.executable, "-m", "services.cli", "deploy", "init", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    return folder


@pytest.fixture(scope="session")
def compose(engine: None, secrets: Path) -> Iterator[Compose]:
    stack = Compose(f"tradeops-test-{os.getpid()}", secrets, free_port(), "test-deploy")
    try:
        timed("build (docker-compose build)", lambda: stack.run("build", "migrate"))
        timed("up to healthy", stack.up)
        yield stack
    finally:
        stack.run("logs", "--no-color", check=False)
        (OUT / f"{stack.project}.log").write_text("\n".join(stack.log))
        timed("down --volumes", stack.down)


@pytest.fixture(scope="session")
def token(secrets: Path) -> Callable[..., str]:
    """A person's token from the generated issuer key, as `tradeops token` prints it."""
    env = {**os.environ, "TRADEOPS_KEYS_DIR": str(secrets / "keys")}

    def mint(subject: str, roles: str) -> str:
        command = [sys.executable, "-m", "services.cli", "token", "--sub", subject]
        done = subprocess.run(
            [*command, "--roles", roles], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    return mint
