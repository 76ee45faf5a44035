"""The README's runnable shell blocks as transcripts, cram-style: run command by command in one
shell, each answer compared with what the README shows.

A block is runnable when its fence reads ```` ```console runnable ````. In it, a line starting
with `$ ` is a command (continued on the next lines while a line ends with `\\` or a quote is
open); the lines up to the next command are what it prints, nothing when there are none. What
the README shows is compared after both sides lose what differs on every run (ids, times,
hashes: `normalise`), and `...` stands for any text within a line or, alone on a line, for any
lines.

    python -m tests.docs.transcript [--write] README.md   # run its blocks, print the answers"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

FENCE = "```console runnable"
PROMPT = "$ "
END = "\x1e"  # ends each command's output, followed by its exit status
ELLIPSIS = "..."
# What a run cannot reproduce, in the order applied: ids, times, then hashes and key ids.
VARYING = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"), "<time>"),
    (re.compile(r"\b[0-9a-f]{12,}\b"), "<hex>"),
    (re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+"), "<token>"),
)


@dataclass(frozen=True)
class Step:
    line: int  # of its `$ ` in the file, from 1
    command: str
    expected: tuple[str, ...]


@dataclass(frozen=True)
class Ran:
    status: int
    output: str


def steps(markdown: str) -> list[Step]:
    """Every command of every runnable block, in order."""
    found: list[Step] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() == FENCE:
            index = _block(lines, index + 1, found)
        index += 1
    return found


def _block(lines: list[str], first: int, found: list[Step]) -> int:
    """Reads one block's steps into `found`; the index of its closing fence."""
    command: list[str] = []
    expected: list[str] = []
    start = index = first
    for index in range(first, len(lines)):
        line = lines[index]
        if line.startswith("```"):
            break
        if line.startswith(PROMPT):
            if command:
                found.append(Step(start, "\n".join(command), tuple(expected)))
            command, expected, start = [line.removeprefix(PROMPT)], [], index + 1
        elif command and not expected and _goes_on("\n".join(command)):
            command.append(line)
        elif command:
            expected.append(line)
        else:
            raise ValueError(f"line {index + 1}: a runnable block starts with `$ `")
    if command:
        found.append(Step(start, "\n".join(command), tuple(expected)))
    return index


def _goes_on(command: str) -> bool:
    """Whether the shell would wait for more: a last line ending in `\\`, or a quote still open."""
    quote = ""
    escaped = False
    for char in command:
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif char in "'\"" and quote in ("", char):
            quote = "" if quote else char
    return bool(quote) or escaped


def normalise(text: str) -> str:
    for pattern, stand_in in VARYING:
        text = pattern.sub(stand_in, text)
    return text


def matches(expected: tuple[str, ...], output: str) -> bool:
    """Whether the output is what the README shows, up to what varies and `...`."""
    shown = normalise("\n".join(expected)).splitlines()
    parts = []
    for line in shown:
        if line == ELLIPSIS:
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = (re.escape(piece) for piece in line.split(ELLIPSIS))
            parts.append("[^\n]*?".join(pieces) + r"\n")
    got = normalise(output).rstrip("\n")
    return re.fullmatch("".join(parts), got + "\n" if got else "") is not None


class Shell:
    """One bash for a whole README, so variables set by one command serve the next. Each
    command reads nothing from standard input and runs with pipefail: a failure anywhere in
    a pipeline is the command's failure."""

    def __init__(self, cwd: Path, env: Mapping[str, str]) -> None:
        self._proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._send("set -o pipefail\n")

    def run(self, command: str, timeout_s: float = 120.0) -> Ran:
        self._send(f"{{ {command}\n}} </dev/null\nprintf '\\n{END}%d\\n' $?\n")
        text = self._read_until_end(timeout_s)
        body, _, status = text.rpartition(END)
        # The newline printed before the status, then the command's own last one if any.
        return Ran(int(status.strip()), body.removesuffix("\n").removesuffix("\n"))

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()

    def _send(self, text: str) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(text.encode())
        self._proc.stdin.flush()

    def _read_until_end(self, timeout_s: float) -> str:
        assert self._proc.stdout is not None
        fd, chunks = self._proc.stdout.fileno(), bytearray()
        deadline = time.monotonic() + timeout_s
        while not re.search(rb"\x1e\d+\n$", chunks):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError(f"no answer within {timeout_s} s: {chunks[-400:]!r}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"the shell exited: {chunks[-400:]!r}")
            chunks += chunk
        return chunks.decode(errors="replace")


def run_all(found: list[Step], cwd: Path, env: Mapping[str, str]) -> Iterator[Ran]:
    shell = Shell(cwd, env)
    try:
        for step in found:
            yield shell.run(step.command)
    finally:
        shell.close()


def rewritten(markdown: str, found: list[Step], ran: list[Ran]) -> str:
    """The markdown with each command's shown answer replaced by what it printed (a step whose
    answer still matches keeps the README's, `...` and all)."""
    lines = markdown.splitlines()
    for step, result in sorted(zip(found, ran, strict=True), key=lambda p: -p[0].line):
        if matches(step.expected, result.output):
            continue
        first = step.line - 1 + step.command.count("\n") + 1
        lines[first : first + len(step.expected)] = result.output.splitlines()
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Runs a file's blocks here and prints each answer; with --write, puts the answers that
    differ into the file (read `git diff`, then write `...` where a run varies)."""
    path = Path(argv[-1])
    markdown = path.read_text()
    found = steps(markdown)
    ran = list(run_all(found, Path.cwd(), os.environ))
    for step, result in zip(found, ran, strict=True):
        mark = "ok" if result.status == 0 and matches(step.expected, result.output) else "DIFFERS"
        print(f"--- line {step.line}: {mark} (exit {result.status})\n$ {step.command}")
        print(result.output)
    if "--write" in argv:
        path.write_text(rewritten(markdown, found, ran))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
