"""A client generated from the OpenAPI document the gateway serves works for the README's
walkthrough (issue 18, "Done when"): openapi-python-client writes it (offline, from the
document fetched from the running gateway), tests/contract/walkthrough_client.py makes the
walkthrough's calls through it and type-checks with `mypy --strict`, and then runs against the
real system. A route the generator cannot read, a reply declared as "any object", or an id typed
differently from one route to the next shows up here as an error in the walkthrough's code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from runtime.stack import Stack

WALKTHROUGH = Path(__file__).resolve().parent.parent / "contract" / "walkthrough_client.py"
# No post hooks: the generator would format its output with ruff, which takes time and changes
# nothing a type checker reads.
GENERATOR_CONFIG = "post_hooks: []\n"
GENERATE = [sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none"]
GENERATE += ["--config", "generator.yaml"]
MYPY = [sys.executable, "-m", "mypy", "--strict"]


class Generated:
    def __init__(self, folder: Path, output: str) -> None:
        self.folder = folder
        self.output = output


@pytest.fixture(scope="module")
def generated(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    folder = tmp_path_factory.mktemp("generated-client")
    document = httpx.get(f"{stack.gateway_url()}/openapi.json", timeout=15)
    document.raise_for_status()
    (folder / "openapi.json").write_bytes(document.content)
    (folder / "generator.yaml").write_text(GENERATOR_CONFIG)
    run = subprocess.run(
        [*GENERATE, "--path", "openapi.json", "--output-path", "tradeops_client"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    shutil.copy(WALKTHROUGH, folder / WALKTHROUGH.name)
    return Generated(folder, run.stdout + run.stderr)


def test_the_generator_reads_every_operation_of_the_document(generated: Generated) -> None:
    assert "Warning" not in generated.output, generated.output


def test_the_walkthrough_type_checks_against_the_generated_client(generated: Generated) -> None:
    # None of the project's settings. The walkthrough is checked strictly; in the generated
    # code, the generator's own habit of casting a value it has just checked is let be.
    (generated.folder / "mypy.ini").write_text(
        "[mypy]\n[mypy-tradeops_client.*]\ndisable_error_code = redundant-cast\n"
    )
    run = subprocess.run(
        [*MYPY, "--config-file", "mypy.ini", "--cache-dir", ".mypy_cache", WALKTHROUGH.name],
        cwd=generated.folder,
        capture_output=True,
        text=True,
        check=False,
        env={"MYPYPATH": str(generated.folder), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_walkthrough_runs_through_the_generated_client(
    generated: Generated, stack: Stack, token_for: Callable[..., str]
) -> None:
    tokens = [token_for("olga", "ops"), token_for("bob", "ops"), token_for("carol", "compliance")]
    run = subprocess.run(
        [sys.executable, WALKTHROUGH.name, stack.gateway_url(), *tokens],
        cwd=generated.folder,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(generated.folder), "PATH": "/usr/bin:/bin"},
        timeout=120,  # a guard against a hang, not a time limit
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "extract " in run.stdout, run.stdout
