"""`make vendor-apidocs`: fetch the npm packages static/vendored.json names, check each tarball
against the integrity the registry publishes for it, copy the listed files into
static/<name>-<version>/, apply the manifest's patches (each says why), and record each file's
SHA-256 as served (tests check the copies against it).

To upgrade, change a version in vendored.json, run this, read the diff, commit. Only a
maintainer runs it: the gateway never fetches anything (issue: works in a closed network)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent / "static"
MANIFEST = STATIC / "vendored.json"
REGISTRY = "https://registry.npmjs.org"


def package_dir(name: str, version: str) -> Path:
    """Versioned, so a URL under it names one content for good (served as immutable)."""
    return STATIC / f"{name}-{version}"


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        data: bytes = response.read()
    return data


def checked_tarball(name: str, version: str) -> tuple[dict[str, str], bytes]:
    """The tarball and its registry record, refused unless its SHA-512 is the published one."""
    dist = json.loads(fetch(f"{REGISTRY}/{name}/{version}"))["dist"]
    algorithm, _, expected = dist["integrity"].partition("-")
    if algorithm != "sha512":
        raise SystemExit(f"{name}@{version}: integrity {algorithm}, expected sha512")
    data = fetch(dist["tarball"])
    if base64.b64encode(hashlib.sha512(data).digest()).decode() != expected:
        raise SystemExit(f"{name}@{version}: the tarball does not match its integrity")
    return dist, data


def patched(path: str, content: bytes, patches: list[dict[str, str]]) -> bytes:
    """Each patch replaces text that must occur exactly once: a new release that moved it
    stops the refresh rather than shipping the file unpatched."""
    for patch in patches:
        old, new = patch["replace"].encode(), patch["with"].encode()
        if content.count(old) != 1:
            raise SystemExit(f"{path}: {patch['replace']!r} occurs {content.count(old)} times")
        content = content.replace(old, new)
    return content


def extract(
    data: bytes, wanted: list[str], patches: dict[str, list[dict[str, str]]], into: Path
) -> dict[str, str]:
    """Each wanted file (a path inside the package) under its base name; their SHA-256."""
    hashes = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for path in wanted:
            member = archive.extractfile(f"package/{path}")
            if member is None:
                raise SystemExit(f"package/{path} is not a file in the tarball")
            content = patched(path, member.read(), patches.get(path, []))
            (into / Path(path).name).write_bytes(content)
            hashes[path] = hashlib.sha256(content).hexdigest()
    return hashes


def vendor(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    dist, data = checked_tarball(name, entry["version"])
    target = package_dir(name, entry["version"])
    for old in STATIC.glob(f"{name}-*"):
        shutil.rmtree(old)
    target.mkdir()
    files = extract(data, sorted(entry["files"]), entry.get("patches", {}), target)
    return {**entry, "tarball": dist["tarball"], "integrity": dist["integrity"], "files": files}


def main() -> int:
    manifest = json.loads(MANIFEST.read_text())
    updated = {name: vendor(name, entry) for name, entry in sorted(manifest.items())}
    MANIFEST.write_text(json.dumps(updated, indent=2) + "\n")
    for name, entry in updated.items():
        print(f"{name} {entry['version']}: {len(entry['files'])} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
