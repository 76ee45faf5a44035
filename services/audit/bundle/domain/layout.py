"""The bundle's files and its two small JSON documents, bundle.json and keys.json."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from services.audit.log import PublicKey

FORMAT = "tradeops-audit-bundle/1"
RECORDS, PROOFS, CHECKPOINT = "records.jsonl", "proofs.jsonl", "checkpoint.txt"
KEYS, INFO = "keys.json", "bundle.json"


class UsageError(Exception):
    """The bundle cannot be read at all (a missing directory or file): exit status 2."""


class BundleFailure(Exception):
    """The bundle does not verify; `seq` names the first bad record when there is one."""

    def __init__(self, reason: str, seq: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.seq = reason, seq

    def __str__(self) -> str:
        return f"at seq {self.seq}: {self.reason}" if self.seq is not None else self.reason

    def report(self) -> str:
        return f"FAILED {self}" if self.seq is not None else f"FAILED: {self}"


@dataclass(frozen=True)
class BundleInfo:
    origin: str
    tree_size: int
    from_seq: int
    to_seq: int
    records: int
    created_at: str
    format: str = FORMAT

    @property
    def whole(self) -> bool:
        return self.from_seq == 0 and self.to_seq == self.tree_size - 1


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_info(folder: Path, info: BundleInfo) -> None:
    write_json(folder / INFO, asdict(info))


def write_keys(folder: Path, origin: str, keys: list[PublicKey]) -> None:
    write_json(folder / KEYS, {"origin": origin, "keys": [_key_entry(key) for key in keys]})


def read_info(folder: Path) -> BundleInfo:
    raw = _load(folder / INFO)
    try:
        info = BundleInfo(**raw)
    except TypeError as exc:
        raise BundleFailure(f"{INFO} has unexpected fields: {exc}") from None
    if not all(type(n) is int for n in (info.tree_size, info.from_seq, info.to_seq, info.records)):
        raise BundleFailure(f"{INFO}: sizes, seqs and the record count must be integers")
    if info.format != FORMAT:
        raise BundleFailure(f"{INFO}: unknown format {info.format!r}, expected {FORMAT!r}")
    if not 0 <= info.from_seq <= info.to_seq < info.tree_size:
        raise BundleFailure(f"{INFO}: the range [{info.from_seq}, {info.to_seq}] is not in [0, N)")
    return info


def read_keys(folder: Path) -> tuple[str, list[PublicKey]]:
    raw = _load(folder / KEYS)
    try:
        keys = [PublicKey(**_key_fields(entry)) for entry in raw["keys"]]
        if not all(_well_typed(key) for key in keys):
            raise TypeError("names and vkeys must be strings, sizes integers or null")
        return str(raw["origin"]), keys
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleFailure(f"{KEYS} is not a list of public keys: {exc}") from None


def require(folder: Path, *names: str) -> None:
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a directory")
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise UsageError(f"{folder} is not a complete bundle: missing {', '.join(missing)}")


def _well_typed(key: PublicKey) -> bool:
    texts = (key.name, key.key_id_hex, key.vkey)
    sizes = (key.from_size, 0 if key.until_size is None else key.until_size)
    return all(isinstance(t, str) for t in texts) and all(type(n) is int for n in sizes)


def _key_entry(key: PublicKey) -> dict[str, Any]:
    fields = asdict(key)
    return {"key_id": fields.pop("key_id_hex"), **fields}


def _key_fields(entry: dict[str, Any]) -> dict[str, Any]:
    fields = dict(entry)
    return {"key_id_hex": fields.pop("key_id"), **fields}


def _load(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleFailure(f"{path.name} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise BundleFailure(f"{path.name} must hold a JSON object")
    return raw
