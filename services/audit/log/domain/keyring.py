"""Audit signing keys, each valid for a window of tree sizes [from_size, until_size).

Keys come from a file or an environment variable (settings.signing_keys), never from the
database: whoever can write the log's tables must not also hold the means to sign its
checkpoints. The windows tile [0, infinity)
exactly, and a key signs only sizes inside its own window, so a rotation never re-signs history.
Errors never quote a private key.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from services.audit.log.domain.checkpoints.format import Checkpoint, sign_checkpoint
from services.audit.log.domain.note import NoteError, Signer

_FIELDS = frozenset({"skey", "from_size", "until_size"})


class KeyringError(ValueError):
    pass


def _covers(from_size: int, until_size: int | None, size: int) -> bool:
    return from_size <= size and (until_size is None or size < until_size)


def _window(from_size: int, until_size: int | None) -> str:
    return f"[{from_size}, {'open' if until_size is None else until_size})"


@dataclass(frozen=True)
class PublicKey:
    name: str
    key_id_hex: str
    vkey: str
    from_size: int
    until_size: int | None

    def covers(self, size: int) -> bool:
        return _covers(self.from_size, self.until_size, size)


@dataclass(frozen=True)
class SigningKey:
    signer: Signer
    from_size: int
    until_size: int | None = None

    def __post_init__(self) -> None:
        if self.from_size < 0 or (
            self.until_size is not None and self.until_size <= self.from_size
        ):
            raise KeyringError(f"{self}: empty or negative window")

    def __str__(self) -> str:
        return f"{self.signer.vkey} {_window(self.from_size, self.until_size)}"

    def public(self) -> PublicKey:
        signer = self.signer
        key_id_hex = signer.key_id.hex()
        return PublicKey(signer.name, key_id_hex, signer.vkey, self.from_size, self.until_size)


class Keyring:
    def __init__(self, keys: Iterable[SigningKey]) -> None:
        self._keys = tuple(sorted(keys, key=lambda key: key.from_size))
        _check_windows(self._keys)

    @classmethod
    def from_json(cls, content: str) -> Keyring:
        try:
            entries = json.loads(content)
        except json.JSONDecodeError as exc:
            raise KeyringError(
                f"signing keys are not JSON: {exc.msg} at line {exc.lineno}"
            ) from None
        if not isinstance(entries, list):
            raise KeyringError("signing keys must be a JSON list")
        return cls(_entry(index, entry) for index, entry in enumerate(entries))

    def signer_for(self, size: int) -> Signer:
        for key in self._keys:
            if _covers(key.from_size, key.until_size, size):
                return key.signer
        raise KeyringError(f"no signing key for tree size {size}")

    def sign(self, checkpoint: Checkpoint) -> str:
        return sign_checkpoint(checkpoint, self.signer_for(checkpoint.size))

    def public_keys(self) -> list[PublicKey]:
        return [key.public() for key in self._keys]

    def rotate(self, new_signer: Signer, at_size: int) -> Keyring:
        current = self._keys[-1]
        if at_size <= current.from_size:
            raise KeyringError(
                f"rotation at size {at_size} must come after the current key's first size "
                f"{current.from_size}"
            )
        closed = replace(current, until_size=at_size)
        return Keyring([*self._keys[:-1], closed, SigningKey(new_signer, at_size)])

    def to_json(self) -> str:
        entries = [
            {"skey": key.signer.skey, "from_size": key.from_size, "until_size": key.until_size}
            for key in self._keys
        ]
        return json.dumps(entries, indent=2) + "\n"

    def __repr__(self) -> str:
        return f"Keyring({', '.join(str(key) for key in self._keys)})"


def generate_dev_keyring(name: str) -> Keyring:
    return Keyring([SigningKey(Signer.generate(name), 0)])


def _entry(index: int, entry: Any) -> SigningKey:
    if not isinstance(entry, dict) or set(entry) != _FIELDS:
        raise KeyringError(f"key {index}: expected exactly the fields {sorted(_FIELDS)}")
    from_size, until_size = entry["from_size"], entry["until_size"]
    if not _is_size(from_size) or not (until_size is None or _is_size(until_size)):
        raise KeyringError(f"key {index}: sizes must be non-negative integers (until_size or null)")
    if not isinstance(entry["skey"], str):
        raise KeyringError(f"key {index}: skey must be a string")
    try:
        return SigningKey(Signer.parse(entry["skey"]), from_size, until_size)
    except NoteError as exc:
        raise KeyringError(f"key {index}: {exc}") from exc


def _is_size(value: object) -> bool:
    return type(value) is int and value >= 0


def _check_windows(keys: tuple[SigningKey, ...]) -> None:
    open_ended = [key for key in keys if key.until_size is None]
    if len(open_ended) != 1:
        raise KeyringError(f"exactly one key must be open-ended, found {len(open_ended)}")
    if len({(key.signer.name, key.signer.key_id) for key in keys}) != len(keys):
        raise KeyringError("a key may hold only one window")
    if keys[0].from_size != 0:
        raise KeyringError(f"gap: no key for sizes {_window(0, keys[0].from_size)}")
    for earlier, later in itertools.pairwise(keys):
        end = earlier.until_size
        if end is None or end > later.from_size:
            raise KeyringError(f"windows overlap: {earlier} and {later}")
        if end < later.from_size:
            raise KeyringError(f"gap: no key for sizes {_window(end, later.from_size)}")
