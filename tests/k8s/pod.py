"""One pod's container, started the way the kubelet would: run as
`unshare --mount --propagation private python -m tests.k8s.pod SPEC.json`, it mounts each of
the pod's volumes at its mountPath in that private mount namespace (a tmpfs holding the
Secret's or ConfigMap's files with their modes and the pod's fsGroup, read-only when the mount
says so; a fresh tmpfs for an emptyDir), then replaces itself with the container's command.

A mountPath whose folders do not exist on this machine (/var/run/secrets/...) is made inside an
overlay of its nearest existing folder, so nothing outside the namespace changes; an emptyDir
that would hide this checkout or its interpreter (a checkout under /tmp) is such an overlay of
what is there rather than an empty folder. The process keeps the test's user: the image's uid
10001 could not read the interpreter here."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def main(spec_file: str) -> None:
    spec: dict[str, Any] = json.loads(Path(spec_file).read_text())
    scratch = Path(spec["scratch"])
    mount("tmpfs", "tmpfs", str(scratch), "mode=0700")
    # What the process needs from this machine: in an image they would not be under a volume.
    needed = [Path(spec["workdir"]), Path(sys.prefix), Path(sys.executable).resolve(), scratch]
    # Last, what covers the scratch space (an emptyDir on /tmp): the overlays need it first.
    for volume in sorted(spec["mounts"], key=lambda v: scratch.is_relative_to(v["path"])):
        place(volume, spec.get("fs_group"), scratch, needed)
    os.chdir(spec["workdir"])
    command = spec["command"]
    os.execvpe(command[0], command, spec["env"])


def place(volume: dict[str, Any], fs_group: int | None, scratch: Path, needed: list[Path]) -> None:
    target = Path(volume["path"])
    if not target.is_dir():
        make_folder(target, scratch)
    if volume["empty_dir"] and any(path.is_relative_to(target) for path in needed):
        # A checkout under /tmp: the pod's /tmp is a private writable layer over it instead.
        overlay(target, scratch)
        return
    mount("tmpfs", "tmpfs", str(target), "mode=1777" if volume["empty_dir"] else "mode=0755")
    for relative, (content, mode) in volume["files"].items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(content))
        path.chmod(mode)
        if fs_group is not None:
            os.chown(path, 0, fs_group)
    if volume["read_only"]:
        mount("", "", str(target), "remount,bind,ro")


def make_folder(target: Path, scratch: Path) -> None:
    existing = target
    while not existing.exists():
        existing = existing.parent
    overlay(existing.resolve(), scratch)
    target.mkdir(parents=True)


def overlay(folder: Path, scratch: Path) -> None:
    """`folder` as it is, with every change kept in the scratch space of this namespace."""
    name = str(folder).strip("/").replace("/", "_") or "root"
    upper, work = scratch / f"{name}.upper", scratch / f"{name}.work"
    upper.mkdir()
    work.mkdir()
    options = f"lowerdir={folder},upperdir={upper},workdir={work}"
    mount("overlay", "overlay", str(folder), options)


def mount(fstype: str, source: str, target: str, options: str) -> None:
    command = ["mount", *(["-t", fstype] if fstype else []), "-o", options]
    command += [source, target] if source else [target]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"pod: {' '.join(command)}: {result.stderr.strip()}")


if __name__ == "__main__":
    main(sys.argv[1])
