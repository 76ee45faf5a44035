"""Second look at a failure in seq order: a seq the chain found missing or repeated is looked
up in the whole of records.jsonl, to tell a deleted record from a moved or duplicated one."""

from __future__ import annotations

import json
from pathlib import Path

from services.audit.bundle.domain.layout import RECORDS, BundleFailure


def explain(folder: Path, failure: BundleFailure, first_seq: int = 0) -> BundleFailure:
    seq = failure.seq
    if seq is None:
        return failure
    found = _lines_holding(folder, seq)
    if len(found) > 1:
        where = ", ".join(str(number) for number in found)
        return BundleFailure(f"duplicate record: seq {seq} is on {RECORDS} lines {where}", seq)
    expected = seq - first_seq + 1
    if found and found[0] != expected:
        reason = f"records out of order: seq {seq} is on {RECORDS} line {found[0]}, not {expected}"
        return BundleFailure(reason, seq)
    return failure


def _lines_holding(folder: Path, seq: int) -> list[int]:
    found = []
    with (folder / RECORDS).open(encoding="utf-8", newline="\n") as lines:
        for number, text in enumerate(lines, start=1):
            if _seq_of(text) == seq:
                found.append(number)
    return found


def _seq_of(text: str) -> int | None:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        return None
    seq = raw.get("seq") if isinstance(raw, dict) else None
    return seq if type(seq) is int else None
