"""`tradeops deploy init DIR`: every key and password a deployment needs, in one folder that
docker-compose.yml (`make compose-secrets` fills .tradeops/compose) and the Kubernetes Secret
(deploy/k8s/README.md) are made from:

    keys/trust.json, keys/issuer.pem, keys/services/NAME.pem   token keys (runtime/key_dir.py)
    audit-signing-keys.json       the audit checkpoint keyring (TRADEOPS_AUDIT_SIGNING_KEYS_FILE)
    export-signing-key.pem        the export signing key (TRADEOPS_EXPORT_SIGNING_KEY_FILE)
    export-verify-keys.json       its public part, pinned (TRADEOPS_EXPORT_VERIFY_KEYS_FILE)
    console-session.key           seals console sessions; every gateway replica reads the same
                                  (TRADEOPS_CONSOLE_SESSION_KEY_FILE)
    passwords/NAME                one random password a file: postgres and each service's role
    compose.env                   the passwords and DIR, for `docker-compose --env-file`

Files are 0600 (public keys 0644) in 0700 folders. What exists is kept, never replaced: a second
run fills in only what is missing, and refuses a compose.env that disagrees with the password
files. Run as root, the files the containers mount are handed to the image's user (uid 10001,
deploy/Dockerfile): Compose mounts secret files as they are, owner and mode included. Run as
anyone else, it prints the `sudo chown` that does so."""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

from runtime import key_dir
from runtime.keyfiles import write_atomically
from runtime.settings import SERVICES, SettingsError
from services.audit.log import create_keyring
from services.export import DEPLOYED_VERIFY_KEYS, create_signing_key

CONTAINER_UID = 10001  # deploy/Dockerfile's tradeops user
AUDIT_KEYRING = "audit-signing-keys.json"
EXPORT_KEY, EXPORT_VERIFY_KEYS = "export-signing-key.pem", DEPLOYED_VERIFY_KEYS
COMPOSE_ENV = "compose.env"
CONSOLE_KEY = "console-session.key"
PASSWORDS = ("postgres", *SERVICES)
DIR_VARIABLE = "TRADEOPS_COMPOSE_DIR"
TELEMETRY = """\
# Traces and metrics: uncomment both to start the OpenTelemetry collector (an image you provide,
# TRADEOPS_OTEL_COLLECTOR_IMAGE) and send every process's telemetry to it.
# COMPOSE_PROFILES=telemetry
# TRADEOPS_OTLP_ENDPOINT=http://otel-collector:4318
"""


def add_deploy_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deploy = commands.add_parser("deploy", help="what a Compose or Kubernetes deployment needs")
    actions = deploy.add_subparsers(required=True)
    init = actions.add_parser("init", help="make every missing key and password in DIR")
    init.add_argument("dir", type=Path, help="the deployment's secrets folder")
    init.set_defaults(run=run_init)


def run_init(args: argparse.Namespace) -> int:
    folder = Path(args.dir).absolute()
    made = init(folder)
    print(f"made in {folder}: {', '.join(made)}" if made else f"{folder}: everything exists")
    if os.geteuid() != 0:
        # Not "run this as root": that would leave compose.env and issuer.pem, which the
        # operator reads, to root as well.
        print(
            f"tradeops: not root, so the files the containers mount still belong to you and "
            f"their user (uid {CONTAINER_UID}) cannot read them; hand them over with\n"
            f"{chown_command(folder)}",
            file=sys.stderr,
        )
    print(f"next: docker-compose --env-file {folder / COMPOSE_ENV} up -d")
    return 0


def init(folder: Path) -> list[str]:
    """Makes what is missing in `folder`; returns what it made, by file or key name."""
    if folder.exists() and not folder.is_dir():
        raise SettingsError(f"{folder} is not a folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    made = [f"keys/{owner}" for owner in key_dir.ensure(folder / "keys")]
    if create_keyring(folder / AUDIT_KEYRING):
        made.append(AUDIT_KEYRING)
    now = datetime.now(UTC)
    made += [
        p.name for p in create_signing_key(folder / EXPORT_KEY, folder / EXPORT_VERIFY_KEYS, now)
    ]
    if not (folder / CONSOLE_KEY).exists():
        # 32 random bytes as 64 hex digits (gateway/console/session.py reads them).
        write_atomically(folder / CONSOLE_KEY, (secrets.token_hex(32) + "\n").encode(), keep=True)
        made.append(CONSOLE_KEY)
    passwords = {}
    for name in PASSWORDS:
        path = folder / "passwords" / name
        if not path.exists():
            # URL-safe: the passwords go into database URLs and an env file unquoted.
            write_atomically(path, secrets.token_urlsafe(32).encode(), keep=True)
            made.append(f"passwords/{name}")
        passwords[name] = _password(path)
    if _compose_env(folder, passwords):
        made.append(COMPOSE_ENV)
    if os.geteuid() == 0:
        for path in mounted(folder):
            os.chown(path, CONTAINER_UID, CONTAINER_UID)
    return made


def mounted(folder: Path) -> list[Path]:
    """The files docker-compose.yml mounts into containers."""
    services = [key_dir.private_path(folder / "keys", name) for name in key_dir.PROCESSES]
    files = [folder / AUDIT_KEYRING, folder / EXPORT_KEY, folder / EXPORT_VERIFY_KEYS]
    files.append(folder / CONSOLE_KEY)
    return [folder / "keys" / "trust.json", *services, *files]


def chown_command(folder: Path) -> str:
    """What a non-root operator runs to hand the mounted files to the containers' user."""
    owner = f"{CONTAINER_UID}:{CONTAINER_UID}"
    return shlex.join(["sudo", "chown", owner, *(str(p) for p in mounted(folder))])


def _password(path: Path) -> str:
    value = path.read_text(encoding="utf-8").strip()
    if not re.fullmatch(r"[A-Za-z0-9._~-]+", value):
        raise SettingsError(
            f"{path}: a password here is letters, digits, '.', '_', '~' and '-' only "
            "(it goes into database URLs and compose.env as it is)"
        )
    return value


def compose_variables(folder: Path, passwords: dict[str, str]) -> dict[str, str]:
    variables = {DIR_VARIABLE: str(folder), "POSTGRES_PASSWORD": passwords["postgres"]}
    return variables | {f"{s.upper()}_DB_PASSWORD": passwords[s] for s in SERVICES}


def _compose_env(folder: Path, passwords: dict[str, str]) -> bool:
    """Writes compose.env when missing (True); checks an existing one against the passwords."""
    path, wanted = folder / COMPOSE_ENV, compose_variables(folder, passwords)
    if path.exists():
        found = _read_env(path)
        for name, value in wanted.items():
            if found.get(name) != value:
                raise SettingsError(
                    f"{path}: {name} is not what {folder} holds (the password files, the folder): "
                    f"remove {path.name} to write it again"
                )
        return False
    lines = [f"{name}={value}" for name, value in wanted.items()]
    header = f"# docker-compose --env-file {path} up -d  (written by `tradeops deploy init`)\n"
    write_atomically(path, (header + "\n".join(lines) + "\n" + TELEMETRY).encode(), keep=True)
    return True


def _read_env(path: Path) -> dict[str, str]:
    pairs = (line.partition("=") for line in path.read_text(encoding="utf-8").splitlines())
    return {k.strip(): v.strip() for k, sep, v in pairs if sep and not k.startswith("#")}
