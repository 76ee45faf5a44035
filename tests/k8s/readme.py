"""Runs the command block of deploy/k8s/README.md as written, in bash, with `kubectl` standing in
as a recorder of its arguments and `.venv/bin/tradeops` the real one of this checkout; then
reads back what the cluster would hold: the Secrets and ConfigMaps the commands create (from the
files and literals they name, as kubectl reads them) and the manifests applied, in order."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "deploy" / "k8s" / "README.md"
Doc = dict[str, Any]


@dataclass
class Applied:
    work: Path  # where the commands ran, as the repository's root
    created: list[Doc] = field(
        default_factory=list
    )  # Secrets and ConfigMaps, as kubectl makes them
    files: list[str] = field(default_factory=list)  # manifests applied, in order
    steps: list[str] = field(default_factory=list)  # "apply FILE", "wait job/NAME", ...


INIT = ".venv/bin/tradeops deploy init "


def command_block() -> str:
    """The README's block that starts with `.venv/bin/tradeops deploy init`."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.S)
    found = [b for b in blocks if b.lstrip().startswith(INIT)]
    if len(found) != 1:
        raise AssertionError(f"{README}: expected one ```sh block starting `{INIT.strip()}`")
    return str(found[0])


def init_folder() -> str:
    """The folder the block's `deploy init` fills, relative to the repository's root."""
    return command_block().lstrip().removeprefix(INIT).split()[0]


def run(work: Path, variables: dict[str, str]) -> Applied:
    """Runs the block in `work` (where `deploy/` and `.venv/bin/tradeops` lead to the
    repository's) and interprets what kubectl was asked."""
    bin_dir, log = work / "bin", work / "kubectl.jsonl"
    bin_dir.mkdir(parents=True, exist_ok=True)
    (work / "deploy").symlink_to(ROOT / "deploy")
    _script(bin_dir / "kubectl", f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')")
    real = Path(sys.executable).parent / "tradeops"
    if not real.is_file():
        raise AssertionError(f"{real} does not exist: run `make install`")
    # Only kubectl is on PATH: a bare `tradeops` in the README fails here as on a fresh clone.
    (work / ".venv" / "bin").mkdir(parents=True)
    (work / ".venv" / "bin" / "tradeops").symlink_to(real)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(work), **variables}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command_block()],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"the README's commands failed: {result.stderr}")
    applied = Applied(work)
    for line in log.read_text().splitlines():
        _interpret(json.loads(line), work, applied)
    return applied


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!{sys.executable}\nimport json, sys\n{body}\n")
    path.chmod(0o755)


def _interpret(argv: list[str], work: Path, applied: Applied) -> None:
    args = list(argv)
    namespace = "default"
    if args[:1] == ["-n"]:
        namespace, args = args[1], args[2:]
    verb = args[0]
    if verb == "apply":
        files = [args[i + 1] for i, a in enumerate(args) if a == "-f"]
        for name in files:
            if not (work / name).is_file():
                raise AssertionError(f"the README applies {name}, which does not exist")
            applied.files.append(name)
            applied.steps.append(f"apply {name}")
    elif verb == "create":
        applied.created.append(_created(args[1:], namespace, work))
        applied.steps.append(f"create {args[1]} {applied.created[-1]['metadata']['name']}")
    elif verb in ("wait", "rollout"):
        applied.steps.append(f"{verb} {next(a for a in args[1:] if '/' in a)}")
    else:
        raise AssertionError(f"the README runs `kubectl {' '.join(argv)}`, unknown here")


def _created(args: list[str], namespace: str, work: Path) -> Doc:
    if args[:2] == ["secret", "generic"]:
        kind, name, options = "Secret", args[2], args[3:]
    elif args[0] == "configmap":
        kind, name, options = "ConfigMap", args[1], args[2:]
    else:
        raise AssertionError(f"kubectl create {args}: unknown here")
    data: dict[str, bytes] = {}
    for option in options:
        flag, _, spec = option.partition("=")
        key, _, value = spec.partition("=")
        if flag == "--from-file":
            data[key] = (work / value).read_bytes()
        elif flag == "--from-literal":
            data[key] = value.encode()
        else:
            raise AssertionError(f"kubectl create {kind}: option {option} unknown here")
    meta = {"name": name, "namespace": namespace}
    if kind == "Secret":
        encoded = {k: base64.b64encode(v).decode() for k, v in data.items()}
        return {"kind": kind, "metadata": meta, "data": encoded}
    return {"kind": kind, "metadata": meta, "data": {k: v.decode() for k, v in data.items()}}


def manifests(files: list[str]) -> list[Doc]:
    docs = []
    for name in files:
        docs += [d for d in yaml.safe_load_all((ROOT / name).read_text()) if d]
    return docs
