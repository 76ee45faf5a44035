"""Issue 22: a service or the gateway started with arguments says what it takes (nothing: the
environment) instead of starting, and a missing setting is one line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from runtime.settings import SERVICES

MODULES = [f"services.{name}" for name in SERVICES] + ["gateway"]


def run(
    module: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in (env or os.environ).items() if not k.startswith("TRADEOPS_")},
    )


@pytest.mark.parametrize("module", MODULES)
def test_help_says_what_the_process_takes_and_starts_nothing(module: str) -> None:
    done = run(module, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m {module}\n")
    assert 'README.md ("Configuration")' in done.stdout
    assert done.stderr == ""  # no log line: nothing was started


@pytest.mark.parametrize("module", ["services.ops", "gateway"])
def test_an_unexpected_argument_is_refused(module: str) -> None:
    done = run(module, "--port", "9000")
    assert done.returncode == 2
    assert done.stderr.rstrip().endswith("unexpected arguments: --port 9000")


def test_a_missing_setting_is_one_line_naming_it() -> None:
    done = run("services.audit")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "tradeops-audit: set TRADEOPS_AUDIT_DATABASE_URL or TRADEOPS_DATABASE_URL "
        "(`make run` sets both for its embedded PostgreSQL)"
    ]
