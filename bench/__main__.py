"""`make bench` (`python bench [NAME ...]`): runs every benchmark in this folder, one after the
other (never in parallel: they would measure each other), shows each one's progress as it
goes, then prints one table of every RESULT line: figure, same-run baseline, ratio, target and
verdict. Exits 1 when a figure misses its target or a benchmark fails to produce its results.

NAME filters by file stem (`python bench audit_append ops_list`). Files named `_*.py` are
helpers and never run."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Row:
    """One RESULT line, or a benchmark that ended without one (``error`` says how)."""

    bench: str
    fields: dict[str, str]
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and self.fields.get("pass") == "true"


def parse_result(bench: str, line: str) -> Row | None:
    """``RESULT name=x figure=1.0 ...`` -> Row; any other line -> None."""
    if not line.startswith("RESULT "):
        return None
    pairs = (token.partition("=") for token in line.split()[1:])
    return Row(bench, {key: value for key, _, value in pairs})


def run_one(path: Path) -> list[Row]:
    """Runs one benchmark as its own process, echoing its output; returns its RESULT rows."""
    print(f"\n=== {path.stem}", flush=True)
    started = time.monotonic()
    rows: list[Row] = []
    with subprocess.Popen(
        [sys.executable, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(f"  {line}", end="", flush=True)
            row = parse_result(path.stem, line.strip())
            if row is not None:
                rows.append(row)
    took = time.monotonic() - started
    print(f"=== {path.stem}: exit {proc.returncode} after {took:.0f} s", flush=True)
    if proc.returncode != 0 and not rows:
        rows.append(Row(path.stem, {}, error=f"exit {proc.returncode}, no result"))
    return rows


COLUMNS = ("name", "figure", "unit", "baseline", "ratio", "target", "pass")


def table(rows: list[Row]) -> str:
    """A Markdown table, so it can be pasted into a note as it is."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        if row.error:
            cells = [row.bench, "", "", "", "", "", f"ERROR ({row.error})"]
        else:
            cells = [row.fields.get(column, "") for column in COLUMNS]
            cells[-1] = "yes" if row.passed else "NO"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def selected(names: list[str]) -> list[Path]:
    found = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_"))
    unknown = set(names) - {p.stem for p in found}
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    return [p for p in found if not names or p.stem in names]


def main(argv: list[str]) -> int:
    rows: list[Row] = []
    for path in selected(argv):
        rows.extend(run_one(path))
    print("\n" + table(rows), flush=True)
    failed = [row for row in rows if not row.passed]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} figures meet their targets", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
