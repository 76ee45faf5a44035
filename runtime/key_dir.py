"""The folder of token keys that `make run` and `tradeops keys` keep (TRADEOPS_KEYS_DIR,
default .tradeops/keys):

    trust.json            public keys of the issuer and of every service (runtime.keys)
    issuer.pem            the local issuer's private key: `tradeops token` only
    services/NAME.pem     each service's private key: that process only

Deployments mount trust.json everywhere and each private key only where it belongs."""

from __future__ import annotations

import contextlib
import fcntl
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from runtime.keyfiles import write_atomically
from runtime.keys import ISSUER, KeyFileError, SigningKey, TrustStore

KEYS_DIR_ENV = "TRADEOPS_KEYS_DIR"
TRUST_FILE_ENV = "TRADEOPS_TRUST_FILE"
SERVICE_KEY_FILE_ENV = "TRADEOPS_SERVICE_KEY_FILE"
ISSUER_KEY_FILE_ENV = "TRADEOPS_ISSUER_KEY_FILE"
# Every process that calls another: the four services and the gateway (it reports refusals).
PROCESSES = ("agent", "ops", "export", "audit", "gateway")


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """One change to a keys folder at a time: two rotations at once must not each write the
    trust file from the same old copy, losing the other's new public key."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def valid_name(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name)) and name != ISSUER


def keys_dir(env: Mapping[str, str]) -> Path:
    home = Path(env.get("TRADEOPS_HOME", ".tradeops"))
    return Path(env.get(KEYS_DIR_ENV) or home / "keys")


def trust_file(env: Mapping[str, str]) -> Path:
    return Path(env.get(TRUST_FILE_ENV) or keys_dir(env) / "trust.json")


def service_key_file(env: Mapping[str, str], name: str) -> Path:
    return Path(env.get(SERVICE_KEY_FILE_ENV) or private_path(keys_dir(env), name))


def issuer_key_file(env: Mapping[str, str]) -> Path:
    return Path(env.get(ISSUER_KEY_FILE_ENV) or private_path(keys_dir(env), ISSUER))


def _ensure(folder: Path, services: Iterable[str] = PROCESSES) -> list[str]:
    trust_path = folder / "trust.json"
    trust = TrustStore.load(trust_path) if trust_path.exists() else TrustStore()
    missing = [(o, p) for o, p in _private_paths(folder, services) if not p.exists()]
    new = [(owner, path, SigningKey.generate(owner)) for owner, path in missing]
    for owner, _, key in new:
        trust = trust.with_key(owner, key.private.public_key())
    if new or not trust_path.exists():
        _publish(trust_path, trust)
    for _, path, key in new:
        key.save(path)
    return [owner for owner, _, _ in new]


def _rotate(folder: Path, owner: str) -> str:
    trust_path = folder / "trust.json"
    if not trust_path.exists():
        raise KeyFileError(f"no trust file in {folder}: run `tradeops keys init` first")
    key = SigningKey.generate(owner)
    _publish(trust_path, TrustStore.load(trust_path).with_key(owner, key.private.public_key()))
    key.save(private_path(folder, owner))
    return key.kid


def _retire(folder: Path, kid: str) -> None:
    trust_path = folder / "trust.json"
    trust = TrustStore.load(trust_path)
    found = trust.owner_of(kid)
    if found is None:
        raise KeyFileError(f"no key {kid} in {trust_path}")
    owner = found[0]
    path = private_path(folder, owner)
    if path.exists() and SigningKey.load(path, owner).kid == kid:
        raise KeyFileError(f"{kid} is the current key of {owner}: rotate it first")
    _publish(trust_path, TrustStore({k: v for k, v in trust.keys.items() if k != kid}))


def _private_paths(folder: Path, services: Iterable[str]) -> list[tuple[str, Path]]:
    return [(owner, private_path(folder, owner)) for owner in (ISSUER, *services)]


def private_path(folder: Path, owner: str) -> Path:
    """Where the folder keeps `owner`'s private key (ISSUER or a service's name)."""
    return folder / "issuer.pem" if owner == ISSUER else folder / "services" / f"{owner}.pem"


def _publish(trust_path: Path, trust: TrustStore) -> None:
    # The public half is pinned before its private key is written: a process that picks up
    # the new key finds every verifier already trusting it.
    write_atomically(trust_path, trust.to_json().encode(), mode=0o644)


def ensure(folder: Path, services: Iterable[str] = PROCESSES) -> list[str]:
    """Creates whatever key is missing (the issuer's, each service's) and pins its public half;
    an existing key is kept. Returns the owners given a new key."""
    with _exclusive(folder):
        return _ensure(folder, services)


def rotate(folder: Path, owner: str) -> str:
    """A new key for `owner` (ISSUER or a service; a new name is registered): the private file
    is replaced and the new public key added beside the old ones, which keep verifying tokens
    already issued until they expire. Returns the new key id."""
    with _exclusive(folder):
        return _rotate(folder, owner)


def retire(folder: Path, kid: str) -> None:
    """Removes a public key: tokens it signed stop verifying (after a leak, or once every token
    signed before a rotation has expired). The current key of its owner cannot be retired."""
    with _exclusive(folder):
        _retire(folder, kid)
