"""Cold start: a fresh clone, `make run`, until the banner prints the API address (then
/healthz must answer 200), against the same fresh clone's `make install` alone: the floor any
project installed from a lock pays. Package caches are warm (one untimed install first), as for
someone who has installed the project before; `--empty-cache` adds one install from empty
caches (pip's and uv's), which downloads every locked package. See bench/README.md."""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from _common import REPO, result, scratch

from runtime.pgserver import LocalPostgres, free_port
from runtime.settings import SERVICES
from runtime.stack import ORDER

TARGET_S = 30.0
API_PREFIX = "API "


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment less what would steer the clone: our venv, make's own
    variables (when run by `make bench`) and any TRADEOPS_ setting; ports are made free."""
    drop = ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("TRADEOPS_")}
    env["TRADEOPS_GATEWAY_PORT"] = str(free_port())
    for name in ORDER:
        env[f"TRADEOPS_{name.upper()}_METRICS_PORT"] = str(free_port())
    for service in SERVICES:
        env[f"TRADEOPS_{service.upper()}_ADDR"] = f"127.0.0.1:{free_port()}"
    return env | (extra or {})


@contextmanager
def fresh_clone() -> Iterator[Path]:
    with scratch("cold-start") as folder:
        clone = folder / "tradeops"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        yield clone


def timed_install(env: dict[str, str]) -> float:
    """Seconds from `git clone` to `make install` done."""
    started = time.monotonic()
    with fresh_clone() as clone:
        subprocess.run(["make", "-s", "install"], cwd=clone, env=env, check=True)
        return time.monotonic() - started


def timed_run() -> float:
    """Seconds from `git clone` to `make run` printing the API address; /healthz is checked
    after the clock stops, then the system is stopped as a person would (Ctrl-C)."""
    started = time.monotonic()
    with fresh_clone() as clone:
        proc = subprocess.Popen(
            ["make", "-s", "run"],
            cwd=clone,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            url, took = wait_for_api(proc), time.monotonic() - started
            status = httpx.get(f"{url}/healthz", timeout=10).status_code
            if status != 200:
                raise RuntimeError(f"/healthz answered {status}")
            return took
        finally:
            stop(proc, clone)


def wait_for_api(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        if line.strip().startswith(API_PREFIX):
            return line.split()[-1]
    raise RuntimeError("make run ended without printing the API address:\n" + "".join(seen[-30:]))


def stop(proc: subprocess.Popen[str], clone: Path) -> None:
    """Ctrl-C to the whole `make run`; the launcher stops the services and PostgreSQL."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    pgdata = clone / ".tradeops" / "pgdata"
    if (pgdata / "PG_VERSION").exists():
        LocalPostgres(pgdata).stop()  # only if the launcher could not: never leave a server


def empty_cache_install() -> float:
    with tempfile.TemporaryDirectory(prefix="tradeops-bench-empty-cache-") as caches:
        extra = {"UV_CACHE_DIR": f"{caches}/uv", "PIP_CACHE_DIR": f"{caches}/pip"}
        return timed_install(clean_env(extra))


def summary(label: str, values: list[float]) -> str:
    shown = ", ".join(f"{v:.1f}" for v in values)
    return f"{label}: min {min(values):.1f} s, median {statistics.median(values):.1f} s [{shown}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--empty-cache", action="store_true")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    print(f"cold start of commit {commit} (committed work only), {args.runs} runs", flush=True)
    print(f"warm-up install: {timed_install(clean_env()):.1f} s", flush=True)
    runs: list[float] = []
    installs: list[float] = []
    for n in range(args.runs):
        installs.append(timed_install(clean_env()))
        runs.append(timed_run())
        print(f"run {n + 1}: install {installs[-1]:.1f} s, make run {runs[-1]:.1f} s", flush=True)
    print(summary("clone + make install", installs), flush=True)
    print(summary("clone + make run to the API address", runs), flush=True)
    median = statistics.median(runs)
    result(
        "cold_start",
        median,
        "s",
        statistics.median(installs),
        f"<={TARGET_S:.0f}s",
        median <= TARGET_S,
    )
    if args.empty_cache:
        took = empty_cache_install()
        print(f"clone + make install from empty caches: {took:.1f} s", flush=True)
        result("install_empty_cache", took, "s", statistics.median(installs), "report", True)


if __name__ == "__main__":
    main()
