"""A clean clone installs exactly what was tested: one uv.lock, hashed, that `make` refuses to
use when pyproject.toml has moved on without it; and nothing read from outside the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = ROOT / ".tools" / "bin" / "uv"
LOCK_FILES = ("Makefile", "pyproject.toml", "uv.lock", "deploy/uv-requirements.txt")


def project_copy(tmp_path: Path) -> Path:
    """The files `make lock-check` reads, with their times kept (make must not refetch uv)."""
    if not UV.exists():
        pytest.fail("uv is missing: run `make install` first")
    for name in LOCK_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def lock_check(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UV_OFFLINE": "1"}  # a verdict from the files alone
    env.pop("MAKEFLAGS", None)
    return subprocess.run(
        ["make", "-s", "lock-check", f"UV={UV}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_committed_lock_agrees_with_pyproject(tmp_path: Path) -> None:
    done = lock_check(project_copy(tmp_path))

    assert done.returncode == 0, done.stderr


def test_make_refuses_a_lock_that_disagrees_with_pyproject(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert '  "croniter>=6,<8",\n' in text
    pyproject.write_text(text.replace('  "croniter>=6,<8",\n', ""))

    done = lock_check(project)

    assert done.returncode != 0
    assert "uv.lock does not match pyproject.toml" in done.stderr
    assert "make lock" in done.stderr


def test_every_package_in_the_lock_comes_from_the_registry_with_hashes() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    unhashed = [
        package["name"]
        for package in lock["package"]
        if package["source"] != {"editable": "."}  # the project itself
        and not registry_files_all_hashed(package)
    ]

    assert unhashed == []


def registry_files_all_hashed(package: dict[str, Any]) -> bool:
    files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
    hashed = all(f.get("hash", "").startswith("sha256:") for f in files)
    return "registry" in package["source"] and bool(files) and hashed


def test_one_lock_serves_python_3_11_to_3_13() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert project["project"]["requires-python"] == ">=3.11,<3.14"
    assert lock["requires-python"] == ">=3.11, <3.14"


def test_no_tracked_file_reads_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.sh", "Makefile", "*.toml", "*.yml", "*.yaml", ".ci/*"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # Built from parts, so this file can scan itself like any other.
    parent, shared = "..", "shared"
    outside = (f'/ "{parent}" /', f"{parent}/{shared}", f'"{shared}" / "testdata"')
    offenders = [
        name
        for name in tracked
        if any(pattern in (ROOT / name).read_text(errors="replace") for pattern in outside)
    ]

    assert offenders == []
