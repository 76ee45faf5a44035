"""Offline verification of an export directory: needs the directory and a trusted public key only.

verify_directory() returns every problem found (empty: the export is intact), each naming the
file and what is wrong. It checks, in order: the manifest's signature against the trusted key
(telling an edited manifest from a signature by another key), every listed file's presence, size
and SHA-256, files present but not listed, SHA256SUMS against the manifest, and, given the
previous export's manifest, the chain link. Used by the service (VerifyExport, after fetching
a delivered copy back) and by `tradeops export verify`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature

from runtime.keys import load_public_pem
from services.export.domain import manifest as manifests
from services.export.domain.exports import MANIFEST, PUBLIC_KEY, SIGNATURE, SUMS, ExportFile
from services.export.domain.signing import key_id

CHUNK = 1 << 20
UNLISTED = frozenset({MANIFEST, SIGNATURE, PUBLIC_KEY, SUMS})
Progress = Callable[[int], None]


def verify_directory(
    path: Path,
    public_key_pem: bytes,
    previous_manifest: bytes | None = None,
    progress: Progress | None = None,
) -> list[str]:
    """Problems with the export in `path` (empty when none); `progress` gets bytes hashed."""
    if not path.is_dir():
        return [f"{path}: not a directory"]
    data = _read(path / MANIFEST)
    if data is None:
        return [f"{MANIFEST}: missing"]
    problems = _signature(path, data, public_key_pem)
    try:
        body = manifests.parse(data)
        listed = manifests.listed_files(body)
    except (ValueError, KeyError, TypeError) as exc:
        return [*problems, f"{MANIFEST}: unreadable ({exc})"]
    problems += _key_id(body, public_key_pem)
    problems += _files(path, listed, progress or (lambda n: None))
    problems += _extras(path, listed)
    problems += _sums(path, listed)
    if previous_manifest is not None:
        problems += chain_problems(body, previous_manifest)
    return problems


def chain_problems(body: Mapping[str, Any], previous_manifest: bytes) -> list[str]:
    expected = hashlib.sha256(previous_manifest).hexdigest()
    named = body.get("previous_manifest_sha256")
    if named == expected:
        return []
    return [
        f"{MANIFEST}: manifest chain broken: previous_manifest_sha256 is {named}, "
        f"but the previous manifest hashes to {expected}"
    ]


def total_bytes(path: Path) -> int:
    """What verify_directory will hash, for a progress bar; 0 when the manifest is unreadable."""
    try:
        return sum(
            f.size_bytes
            for f in manifests.listed_files(manifests.parse((path / MANIFEST).read_bytes()))
        )
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _signature(path: Path, data: bytes, trusted_pem: bytes) -> list[str]:
    signature = _read(path / SIGNATURE)
    if signature is None:
        return [f"{SIGNATURE}: missing"]
    try:
        trusted = load_public_pem(trusted_pem)
    except ValueError as exc:
        return [f"the trusted public key is unusable: {exc}"]
    if _verifies(trusted_pem, signature, data):
        return []
    shipped = _read(path / PUBLIC_KEY)
    if shipped is not None and shipped != trusted_pem and _verifies(shipped, signature, data):
        other = key_id(load_public_pem(shipped))
        return [
            f"{SIGNATURE}: signed by another key ({other}), not the trusted key ({key_id(trusted)})"
        ]
    return [f"{SIGNATURE}: does not verify: {MANIFEST} was edited or the signature is corrupt"]


def _verifies(pem: bytes, signature: bytes, data: bytes) -> bool:
    try:
        load_public_pem(pem).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _key_id(body: Mapping[str, Any], trusted_pem: bytes) -> list[str]:
    try:
        trusted = key_id(load_public_pem(trusted_pem))
    except ValueError:
        return []
    named = body.get("key_id")
    return [] if named == trusted else [f"{MANIFEST}: names key {named}, not {trusted}"]


def _files(path: Path, listed: list[ExportFile], progress: Progress) -> list[str]:
    problems: list[str] = []
    for file in listed:
        target = path / file.name
        if file.name in UNLISTED or "/" in file.name or not target.is_file():
            problems.append(f"{file.name}: missing")
            continue
        size = target.stat().st_size
        if size != file.size_bytes:
            problems.append(f"{file.name}: {size} bytes, the manifest says {file.size_bytes}")
        if sha256_file(target, progress) != file.sha256:
            problems.append(f"{file.name}: SHA-256 does not match the manifest")
    return problems


def _extras(path: Path, listed: list[ExportFile]) -> list[str]:
    known = UNLISTED | {f.name for f in listed}
    extra = sorted(p.name for p in path.iterdir() if p.name not in known)
    return [f"{name}: not listed in the manifest" for name in extra]


def _sums(path: Path, listed: list[ExportFile]) -> list[str]:
    data = _read(path / SUMS)
    if data is None:
        return [f"{SUMS}: missing"]
    wanted = {f.name: f.sha256 for f in listed}
    found: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        found[name.removeprefix("*")] = digest
    if any(found.get(name) != digest for name, digest in wanted.items()):
        return [f"{SUMS}: disagrees with {MANIFEST}"]
    return []


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            if progress is not None:
                progress(len(chunk))
    return digest.hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
