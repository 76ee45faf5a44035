"""`tradeops` command line: development tokens and migrations.

    tradeops token --sub alice --roles ops[,compliance] [--desk D] [--ttl SECONDS]
    tradeops migrate
    tradeops certs [--dir DIR] [--days N] [--host NAME ...] [--force]

The token is signed with TRADEOPS_JWT_SECRET / TRADEOPS_JWT_SECRET_FILE, or with the secret
`make run` keeps in .tradeops/jwt.secret when neither is set.

`migrate` provisions roles and schemas when TRADEOPS_ADMIN_DATABASE_URL is set, then migrates
each schema as its owner role (runtime.provision.migration_url names the settings)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from runtime.auth import ROLES, mint_token
from runtime.settings import SERVICES, AuthSettings, SettingsError


def main(argv: list[str] | None = None) -> int:
    return run(build_parser()[0], argv)


def run(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parses argv with `parser` and runs the chosen command; bad settings exit with status 2."""
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (SettingsError, ValueError) as exc:
        print(f"tradeops: {exc}", file=sys.stderr)
        return 2


def build_parser() -> tuple[
    argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]
]:
    """The `tradeops` parser and its subcommands, so other packages can add commands to it."""
    parser = argparse.ArgumentParser(prog="tradeops")
    commands = parser.add_subparsers(required=True)
    token = commands.add_parser("token", help="print a development token")
    token.add_argument("--sub", required=True, help="subject (user name)")
    token.add_argument("--roles", required=True, help=f"comma-separated: {', '.join(ROLES)}")
    token.add_argument("--desk", default="")
    token.add_argument("--ttl", type=int, default=0, help="lifetime in seconds")
    token.set_defaults(run=_token)
    migrate = commands.add_parser("migrate", help="provision roles and schemas, run migrations")
    migrate.set_defaults(run=_migrate)
    certs = commands.add_parser("certs", help="make a development CA and mutual-TLS certificates")
    certs.add_argument("--dir", type=Path, help="output folder [$TRADEOPS_HOME/tls]")
    certs.add_argument("--days", type=int, default=365, help="validity in days [365]")
    certs.add_argument("--host", action="append", default=[], help="extra name or IP (repeat)")
    certs.add_argument("--force", action="store_true", help="replace an existing CA and set")
    certs.set_defaults(run=_certs)
    return parser, commands


def _token(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    local_secret = Path(env.get("TRADEOPS_HOME", ".tradeops")) / "jwt.secret"
    if not env.get("TRADEOPS_JWT_SECRET") and not env.get("TRADEOPS_JWT_SECRET_FILE"):
        env["TRADEOPS_JWT_SECRET_FILE"] = str(local_secret)
        if not local_secret.exists():
            raise SettingsError("no secret: set TRADEOPS_JWT_SECRET or run `make run` once")
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    print(mint_token(AuthSettings.from_env(env), args.sub, roles, args.desk, args.ttl))
    return 0


def _certs(args: argparse.Namespace) -> int:
    from runtime.tls import PROCESSES, make_certs

    if args.days < 1:
        raise ValueError("--days must be at least 1")
    folder = args.dir or Path(os.environ.get("TRADEOPS_HOME", ".tradeops")) / "tls"
    make_certs(folder, args.days, args.host, args.force)
    print(
        f"wrote ca.pem and a certificate and key per process ({', '.join(PROCESSES)}) to {folder}"
    )
    print(f"enable mutual TLS: export TRADEOPS_TLS_DIR={folder.resolve()}")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from runtime.migrate import upgrade
    from runtime.provision import migration_url, provision

    admin = os.environ.get("TRADEOPS_ADMIN_DATABASE_URL")
    if admin:
        provision(admin)
    # Each schema's owner role runs its migrations, never the service's own role.
    urls = {service: migration_url(service, os.environ) for service in SERVICES}
    for service, url in urls.items():
        upgrade(service, url)
        print(f"migrated {service}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
