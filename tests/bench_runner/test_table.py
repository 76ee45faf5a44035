"""`make bench`'s runner (bench/__main__.py): it runs each benchmark as a process, collects the
RESULT lines, and its table and exit status say which targets were missed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_runner", BENCH / "__main__.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class body runs
    sys.modules["bench_runner"] = module
    spec.loader.exec_module(module)
    return module


def test_result_line_parsed(runner: ModuleType) -> None:
    line = (
        "RESULT name=audit_append figure=12954.0 unit=events/s baseline=18219.0"
        " ratio=0.711 target=>=20000&ratio>=0.5 pass=false"
    )
    row = runner.parse_result("audit_append", line)
    assert row.fields["target"] == ">=20000&ratio>=0.5"
    assert row.fields["figure"] == "12954.0"
    assert not row.passed
    assert runner.parse_result("audit_append", "proposed 10 actions") is None


def test_table_marks_misses_and_crashes(runner: ModuleType, tmp_path: Path) -> None:
    script = tmp_path / "fake.py"
    fields = "unit=x/s baseline=1.0 target=>=1"
    script.write_text(
        "print('warming up')\n"
        f"print('RESULT name=a figure=2.0 {fields} ratio=2.000 pass=true')\n"
        f"print('RESULT name=b figure=0.5 {fields} ratio=0.500 pass=false')\n"
    )
    crash = tmp_path / "crash.py"
    crash.write_text("raise SystemExit(3)\n")
    rows = runner.run_one(script) + runner.run_one(crash)
    text = runner.table(rows)
    assert "| a | 2.0 | x/s | 1.0 | 2.000 | >=1 | yes |" in text
    assert "| b | 0.5 | x/s | 1.0 | 0.500 | >=1 | NO |" in text
    assert "| crash |" in text
    assert "ERROR (exit 3, no result)" in text


def test_unknown_name_refused() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "no_such_bench"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1
    assert "unknown benchmark(s): no_such_bench" in done.stderr
