"""proofs.jsonl: one inclusion proof per record of a partial bundle, in the records' order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from services.audit.bundle.domain.layout import PROOFS, BundleFailure


@dataclass(frozen=True)
class ProofLine:
    seq: int
    tree_size: int
    # Hashes from the leaf up, as RFC 9162's inclusion path.
    hashes: list[bytes]

    def line(self) -> str:
        hashes = [h.hex() for h in self.hashes]
        fields = {"seq": self.seq, "tree_size": self.tree_size, "proof": hashes}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")) + "\n"


def read_proofs(folder: Path) -> Iterator[ProofLine]:
    with (folder / PROOFS).open(encoding="utf-8", newline="\n") as lines:
        for number, text in enumerate(lines, start=1):
            yield _parse(number, text)


def _parse(number: int, text: str) -> ProofLine:
    try:
        raw = json.loads(text)
        seq, size = raw["seq"], raw["tree_size"]
        if type(seq) is not int or type(size) is not int:
            raise TypeError("seq and tree_size must be integers")
        return ProofLine(seq, size, [bytes.fromhex(h) for h in raw["proof"]])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise BundleFailure(f"{PROOFS} line {number} is not a proof ({exc})") from None
