"""`tradeops export verify`: checks a delivered export offline, with no access to the system.

    tradeops export verify DIR --pubkey FILE [--previous DIR_OR_FILE] [--progress]

FILE is the export signing public key (PEM), obtained independently of the export (ListPublicKeys
or a published copy): key.pub.pem inside DIR is only used to name the key of a signature that
is not the trusted one. --previous checks the manifest chain: give the previous export's
directory (or its manifest.json), or a directory of exports, in which case the export whose
manifest DIR's manifest names is looked up there. Prints every problem, each naming the file and
what is wrong. Exit status: 0 intact, 1 problems found, 2 unusable arguments."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from services.export.domain import MANIFEST
from services.export.verification import total_bytes, verify_directory

_WIDTH, _EVERY_S = 30, 0.1


def add_export_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser("export", help="verify signed exports offline")
    actions = export.add_subparsers(required=True)
    verify = actions.add_parser("verify", help="verify an export directory offline")
    verify.add_argument("dir", type=Path, help="the export's directory")
    verify.add_argument("--pubkey", type=Path, required=True, help="trusted public key (PEM)")
    verify.add_argument(
        "--previous",
        type=Path,
        help="the previous export (directory or manifest.json), or a directory of exports, "
        "to check the manifest chain",
    )
    verify.add_argument("--progress", action="store_true", help="progress bar even off a TTY")
    verify.set_defaults(run=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    try:
        pem = args.pubkey.read_bytes()
        previous = _previous(args.previous, args.dir) if args.previous else None
    except (OSError, UsageError) as exc:
        print(f"tradeops: {exc}", file=sys.stderr)
        return 2
    bar = Bar(total_bytes(args.dir), sys.stderr, force=args.progress)
    problems = verify_directory(args.dir, pem, previous, bar.advance)
    bar.close()
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        print(f"{args.dir}: {len(problems)} problem(s) found")
        return 1
    chained = " and chain link" if previous is not None else ""
    print(f"{args.dir}: OK (signature, files{chained} verified)")
    return 0


class UsageError(Exception):
    """The arguments cannot be used (nothing was verified)."""


def _previous(given: Path, export_dir: Path) -> bytes:
    if given.is_file():
        return given.read_bytes()
    if (given / MANIFEST).is_file():
        return (given / MANIFEST).read_bytes()
    if not given.is_dir():
        raise UsageError(f"--previous {given}: no such directory or file")
    named = _named_previous(export_dir)
    for candidate in sorted(given.glob(f"*/{MANIFEST}")):
        data = candidate.read_bytes()
        if hashlib.sha256(data).hexdigest() == named:
            return data
    raise UsageError(f"--previous {given}: no export there has the manifest {named}")


def _named_previous(export_dir: Path) -> str:
    try:
        named = json.loads((export_dir / MANIFEST).read_bytes())["previous_manifest_sha256"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{export_dir / MANIFEST}: cannot read the previous manifest's hash: {exc}"
        ) from None
    if not named:
        raise UsageError(f"{export_dir / MANIFEST}: the first of a chain has no previous")
    return str(named)


class Bar:
    """A one-line progress bar on stderr over the bytes hashed."""

    def __init__(self, total: int, stream: TextIO, *, force: bool = False) -> None:
        self.stream, self.enabled = stream, force or stream.isatty()
        self.total, self.done = max(total, 0), 0
        self._start = self._shown = time.monotonic()

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and now - self._shown >= _EVERY_S:
            self._shown = now
            self._draw(now)

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")

    def _draw(self, now: float) -> None:
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = round(share * _WIDTH)
        rate = self.done / max(now - self._start, 1e-6) / 1e6
        bar = "#" * filled + "." * (_WIDTH - filled)
        self.stream.write(
            f"\r[{bar}] {self.done / 1e6:,.1f}/{self.total / 1e6:,.1f} MB, {rate:,.0f} MB/s"
        )
        self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    """Runs the command alone (`python -m services.export.commands verify ...`)."""
    parser = argparse.ArgumentParser(prog="tradeops")
    add_export_commands(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
