"""Issue 19: the whole system on a network with no way out. `make run` starts inside a network
namespace that has only a loopback interface (tests/offline/drill.py runs there); the README's
walkthrough runs there command by command and prints what the README shows (issue 22); /docs
and /redoc render every operation in chromium; neither page asked any host but the gateway for
anything, and no process of the stack tried to reach another address."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.docs import transcript
from tests.offline.drill import ROOT

DRILL_TIMEOUT_S = 600

# The embedded PostgreSQL of `make run`, like the postgres-marked tests' own.
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("closed-network")
    argv = ["unshare", "--net", "--", sys.executable, "-m", "tests.offline.drill", str(out)]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=DRILL_TIMEOUT_S)
    assert result.returncode == 0, f"the drill failed:\n{result.stderr[-4000:]}"
    print(f"closed-network drill: screenshots, logs and result.json in {out}")
    return out, json.loads((out / "result.json").read_text())


def test_the_namespace_has_only_a_loopback_interface(drill: tuple[Path, dict[str, Any]]) -> None:
    assert drill[1]["interfaces"] == ["lo"]


def test_the_readme_walkthrough_runs_there_as_written(drill: tuple[Path, dict[str, Any]]) -> None:
    """Every command of the README's runnable blocks succeeded and printed what the README
    shows under it (tests/docs/transcript.py says what may differ)."""
    found = transcript.steps((ROOT / "README.md").read_text())
    ran = drill[1]["walkthrough"]
    assert [r["line"] for r in ran] == [step.line for step in found]
    assert len(found) >= 15  # the whole walkthrough, not an empty list
    wrong = [
        f"README.md line {step.line}: $ {step.command}\n"
        f"exited {result['status']}; the README shows:\n{chr(10).join(step.expected)}\n"
        f"it printed:\n{result['output']}"
        for step, result in zip(found, ran, strict=True)
        if result["status"] != 0 or not transcript.matches(step.expected, result["output"])
    ]
    assert not wrong, "\n\n".join(wrong)


@pytest.mark.parametrize("page", ["docs", "redoc"])
def test_the_api_docs_render_every_operation_from_the_gateway_alone(
    drill: tuple[Path, dict[str, Any]], page: str
) -> None:
    out, result = drill
    seen = result[page]
    assert seen["shown"] == seen["expected"]
    assert len(seen["expected"]) > 50  # the whole API, not an empty document
    assert seen["foreign"] == []
    assert seen["errors"] == []
    assert seen["csp_violations"] == []
    assert (out / f"{page}.png").stat().st_size > 10_000


def test_no_process_of_the_stack_tried_to_reach_outside(
    drill: tuple[Path, dict[str, Any]],
) -> None:
    result = drill[1]
    assert result["addressed"] > 20  # the trace saw the stack's own loopback traffic
    assert result["outside"] == []
