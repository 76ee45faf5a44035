"""Tampering with a bundle's files, as someone holding the exported copy could."""

from __future__ import annotations

import json
from pathlib import Path

from services.audit.log.domain.checkpoints.format import Checkpoint, sign_checkpoint
from services.audit.log.domain.note import Signer


def file_names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def lines(folder: Path, name: str = "records.jsonl") -> list[str]:
    return (folder / name).read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(folder: Path, new: list[str], name: str = "records.jsonl") -> None:
    (folder / name).write_text("".join(new), encoding="utf-8")


def edit_record(folder: Path, index: int, **fields: object) -> None:
    found = lines(folder)
    record = json.loads(found[index])
    found[index] = json.dumps({**record, **fields}, sort_keys=True, separators=(",", ":")) + "\n"
    rewrite(folder, found)


def delete_lines(folder: Path, *indexes: int) -> None:
    found = lines(folder)
    rewrite(folder, [line for index, line in enumerate(found) if index not in indexes])


def swap_lines(folder: Path, first: int, second: int) -> None:
    found = lines(folder)
    found[first], found[second] = found[second], found[first]
    rewrite(folder, found)


def duplicate_line(folder: Path, index: int) -> None:
    found = lines(folder)
    rewrite(folder, [*found[: index + 1], found[index], *found[index + 1 :]])


def cut_last_line(folder: Path) -> None:
    found = lines(folder)
    rewrite(folder, [*found[:-1], found[-1][: len(found[-1]) // 2]])


def checkpoint_body(folder: Path) -> Checkpoint:
    note = (folder / "checkpoint.txt").read_text(encoding="utf-8")
    return Checkpoint.parse(note[: note.index("\n\n") + 1])


def sign_with_unknown_key(folder: Path) -> Signer:
    intruder = Signer.generate("tradeops.test-audit")
    note = sign_checkpoint(checkpoint_body(folder), intruder)
    (folder / "checkpoint.txt").write_text(note, encoding="utf-8")
    return intruder


def alter_root(folder: Path) -> None:
    note = (folder / "checkpoint.txt").read_text(encoding="utf-8")
    body = checkpoint_body(folder)
    forged = Checkpoint(body.origin, body.size, bytes(32)).format()
    (folder / "checkpoint.txt").write_text(forged + note[note.index("\n\n") + 1 :])
