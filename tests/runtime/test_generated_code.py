"""The committed generated code must be exactly what `make protos` produces today."""

from __future__ import annotations

import filecmp
from pathlib import Path

from runtime.protogen import generate


def _files(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_committed_generated_code_matches_a_fresh_generation(
    repo_root: Path, tmp_path: Path
) -> None:
    generate(tmp_path)
    fresh, committed = tmp_path / "tradeops", repo_root / "tradeops"
    assert _files(fresh) == _files(committed), "run `make protos` and commit the result"
    stale = [
        f for f in sorted(_files(fresh)) if not filecmp.cmp(fresh / f, committed / f, shallow=False)
    ]
    assert stale == [], f"stale generated files (run `make protos`): {stale}"


def test_every_rpc_and_message_in_the_contracts_is_commented(repo_root: Path) -> None:
    undocumented = []
    for proto in sorted((repo_root / "protos").rglob("*.proto")):
        lines = proto.read_text().splitlines()
        for i, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith(("rpc ", "service ", "enum ")) and not _has_comment(lines, i):
                undocumented.append(f"{proto.name}:{i + 1}: {stripped}")
    assert undocumented == []


def _has_comment(lines: list[str], index: int) -> bool:
    return index > 0 and lines[index - 1].strip().startswith("//")
