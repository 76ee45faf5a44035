"""The transcript runner itself (tests/docs/transcript.py): how README blocks are read, run and
compared. tests/offline/test_closed_network.py runs the README's own blocks against `make run`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.docs import transcript

ROOT = Path(__file__).resolve().parents[2]
BLOCK = """Some prose.

```console runnable
$ NAME=world
$ echo "hello $NAME" \\
    && echo 'two
lines'
hello world
two
lines
$ printf 'no newline at the end'
no newline at the end
```

```sh
$ not runnable: no marker
```
"""


def test_commands_and_their_answers_are_read_from_marked_blocks_only() -> None:
    found = transcript.steps(BLOCK)
    assert [step.line for step in found] == [4, 5, 11]
    assert found[0] == transcript.Step(4, "NAME=world", ())
    assert found[1].command == "echo \"hello $NAME\" \\\n    && echo 'two\nlines'"
    assert found[1].expected == ("hello world", "two", "lines")


def test_a_block_must_start_with_a_command() -> None:
    with pytest.raises(ValueError, match="line 2: a runnable block starts with"):
        transcript.steps("```console runnable\noutput without a command\n```\n")


def test_commands_share_one_shell_and_report_their_status(tmp_path: Path) -> None:
    found = transcript.steps(BLOCK)
    ran = list(transcript.run_all(found, tmp_path, os.environ))
    assert [r.status for r in ran] == [0, 0, 0]
    assert ran[1].output == "hello world\ntwo\nlines"
    assert ran[2].output == "no newline at the end"
    assert all(transcript.matches(s.expected, r.output) for s, r in zip(found, ran, strict=True))


def test_a_failing_command_and_a_failing_pipeline_are_failures(tmp_path: Path) -> None:
    shell = transcript.Shell(tmp_path, os.environ)
    try:
        assert shell.run("false").status == 1
        assert shell.run("false | cat").status == 1  # pipefail
        assert shell.run('read -r line; echo "[$line]"') == transcript.Ran(0, "[]")  # no stdin
        assert shell.run("echo still here").output == "still here"
    finally:
        shell.close()


def test_what_varies_from_run_to_run_is_not_compared() -> None:
    shown = ('{"id": "9c4aea02-1aaf-4b0b-be5e-25795412f9e4", "at": "2026-12-06T21:12:58.09Z",',)
    printed = '{"id": "0f8a3c6e-44d1-4c2e-9a0b-7d1e2f3a4b5c", "at": "2027-01-01T00:00:00Z",'
    assert transcript.matches(shown, printed)
    assert transcript.matches(("key 062cf17897a981f9",), "key 50b3a34c218e8d46")


@pytest.mark.parametrize(
    ("shown", "printed"),
    [
        (("APPROVED",), "REJECTED"),
        (
            ('{"ok":true,"checked":...,"first_bad_seq":-1}',),
            '{"ok":false,"checked":3,"first_bad_seq":2}',
        ),
        (("one", "two"), "one"),
        (("one",), "one\ntwo"),
        ((), "something"),
        (("something",), ""),
    ],
)
def test_a_different_answer_does_not_match(shown: tuple[str, ...], printed: str) -> None:
    assert not transcript.matches(shown, printed)


def test_an_ellipsis_stands_for_text_in_a_line_or_for_whole_lines() -> None:
    assert transcript.matches(('{"checked":...,"ok":true}',), '{"checked":18,"ok":true}')
    assert transcript.matches(("first", "...", "last"), "first\na\nb\nlast")
    assert transcript.matches(("first", "...", "last"), "first\nlast")
    assert not transcript.matches(("first", "...", "last"), "first\na\nlast but not least")


def test_write_puts_what_ran_under_the_commands_whose_answer_changed() -> None:
    found = transcript.steps(BLOCK)
    ran = [
        transcript.Ran(0, ""),
        transcript.Ran(0, "hello there\ntwo\nlines"),
        transcript.Ran(0, ""),
    ]
    rewritten = transcript.rewritten(BLOCK, found, ran)
    assert "lines'\nhello there\ntwo\nlines\n$ printf" in rewritten
    assert "$ printf 'no newline at the end'\n```" in rewritten


def test_the_readme_walkthrough_is_runnable_blocks() -> None:
    found = transcript.steps((ROOT / "README.md").read_text())
    commands = [step.command for step in found]
    assert len(found) >= 15
    assert any("/agent/ops/actions/$ACTION/approve" in c for c in commands)
    assert any("/audit/verify" in c for c in commands)
    assert any(step.expected for step in found if "/exports" in step.command)
